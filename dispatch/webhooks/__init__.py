"""Webhooks for taxi companies: signed deliveries from a durable outbox.

``model`` holds the types and the signature scheme (pure), ``delivery`` the outbox notifier and the
background deliverer; the rows live in ``dispatch.persistence.webhooks``. Nothing is re-exported here,
so that the persistence layer can import ``model`` without importing the deliverer.
"""
