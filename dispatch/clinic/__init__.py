"""Hospital-linked booking: a clinic's HL7 FHIR R4 Appointments become arrive-by rides.

``model`` holds the types, ``fhir`` maps FHIR resources (validated by ``fhir.resources``) to them,
``service`` turns appointments into bookings through the dispatch service; rows live in
``dispatch.persistence.clinic``. Nothing is re-exported, so persistence can import ``model`` alone.
"""
