"""Compiled kernels of the large-neighbourhood search (``solver.lns``). The only module that imports numba.

Node numbering (built by ``solver.lns``): pickup of request r is node r, its drop-off node R + r, the
start and end depots of vehicle v are nodes 2R + v and 2R + V + v. ``T[a, b]`` is the service time at a
plus the travel time a -> b (so start-of-service times satisfy ``x[b] >= x[a] + T[a, b]``), ``D[a, b]``
the distance. Windows ``lo``/``hi`` are the tightened ones (implied by ride-time limits), so anything
these kernels accept is accepted by ``solver.schedule.earliest_schedule`` as well.

State per vehicle v: ``full[v, :lens[v] + 2]`` = [start depot, stops..., end depot], and for the same
positions the earliest schedule ``x``, the load on the arc leaving each node, the path time ``cum`` from
the start to each node (service and driving, no waiting), and Savelsbergh's forward time slack (how
far a node's start may move later before some later window is missed, waiting included; ride-time
limits ignored, so it gives necessary conditions only). Ride-time limits and route
duration are checked exactly by ``_schedule``, a least fixpoint of the difference constraints (the same
algorithm as ``solver.schedule``).

A route's cost ``vcost`` is the ``Problem.objective`` weighting ``wt = [per metre, per second of excess
ride, per vehicle used]`` of its distance, its riders' excess ride along the path (per person, as
``solver.schedule.path_excess_ride_s``) and whether it is used; insertions are ranked by the exact change.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

UNSERVED_COST = np.int64(10**12)  # per unserved request: serving more always beats driving less


@njit(cache=True)
def _schedule(nodes, m, v, T, lo, hi, n_req, maxride, maxdur, x, pickpos):
    """Earliest start-of-service times of the route ``nodes[:m]`` into ``x``; False if infeasible."""
    for i in range(m):
        x[i] = lo[nodes[i]]
    for _ in range(m + 2):
        for i in range(m - 1):
            t = x[i] + T[nodes[i], nodes[i + 1]]
            if t > x[i + 1]:
                x[i + 1] = t
                if t > hi[nodes[i + 1]]:
                    return False
        if x[0] > hi[nodes[0]]:
            return False
        changed = False
        for i in range(1, m - 1):
            nd = nodes[i]
            if nd < n_req:
                pickpos[nd] = i
            elif nd < 2 * n_req:
                j = pickpos[nd - n_req]
                if j >= 0:
                    t = x[i] - maxride[nd - n_req]
                    if t > x[j]:
                        x[j] = t
                        changed = True
        for i in range(1, m - 1):
            nd = nodes[i]
            if nd < n_req:
                pickpos[nd] = -1
        t = x[m - 1] - maxdur[v]
        if t > x[0]:
            x[0] = t
            changed = True
        if not changed:
            return True
    return False


@njit(cache=True)
def _refresh(v, routes, data, pickpos):
    """Recompute the cached schedule, loads, slack and distance of route v; False if infeasible.

    routes = (full, lens, x, load, slack, vcost, cum); data = (T, D, lo, hi, q, init_load, n_req,
    maxride, maxdur, wt).
    """
    full, lens, x, load, slack, vcost, cum = routes
    T, _, lo, hi, q, init_load, n_req, maxride, maxdur, _ = data
    m = lens[v] + 2
    ok = _schedule(full[v], m, v, T, lo, hi, n_req, maxride, maxdur, x[v], pickpos)
    load[v, 0, 0] = init_load[v, 0]
    load[v, 0, 1] = init_load[v, 1]
    for i in range(1, m):
        nd = full[v, i]
        load[v, i, 0] = load[v, i - 1, 0] + q[nd, 0]
        load[v, i, 1] = load[v, i - 1, 1] + q[nd, 1]
    slack[v, m - 1] = hi[full[v, m - 1]] - x[v, m - 1]
    for i in range(m - 2, -1, -1):
        a = full[v, i]
        b = full[v, i + 1]
        wait = x[v, i + 1] - (x[v, i] + T[a, b])
        s = hi[a] - x[v, i]
        if wait + slack[v, i + 1] < s:
            s = wait + slack[v, i + 1]
        slack[v, i] = s
    vcost[v] = _route_cost(full[v], lens[v], data, cum[v])
    return ok


@njit(cache=True)
def _route_distance(route, k, D):
    """Distance of a route with k stops between its depots."""
    c = np.int64(0)
    for i in range(k + 1):
        c += D[route[i], route[i + 1]]
    return c


@njit(cache=True)
def _route_cost(route, k, data, cum):
    """The weighted cost of a route with k stops (see the module docstring); fills ``cum``."""
    T, D, _, _, q, _, n_req, _, _, wt = data
    dist = _route_distance(route, k, D)
    ride = np.int64(0)
    if wt[1] != 0:
        cum[0] = 0
        for i in range(1, k + 2):
            cum[i] = cum[i - 1] + T[route[i - 1], route[i]]
        for i in range(1, k + 1):
            nd = route[i]
            if nd < n_req or nd >= 2 * n_req:
                continue
            r = nd - n_req
            persons = q[r, 0] + q[r, 1]
            start = 0
            for j in range(1, i):
                if route[j] == r:
                    start = j
                    break
            ride += persons * (cum[i] - cum[start] - T[route[start], nd])
    if k == 0:  # an unused vehicle costs nothing (as ``solver.schedule.route_objective``)
        return np.int64(0)
    return wt[0] * dist + wt[1] * ride + wt[2]


@njit(cache=True)
def _best_insertion(r, routes, data, cap, allowed, has_pick, pickpos, blink, seq, xs):
    """Cheapest feasible insertion of request r: (vehicle, length m), the vehicle's new route left in
    ``seq[:m]`` (``xs`` is scratch for its schedule).

    Candidates passing the necessary conditions (capacity on every arc the rider is aboard, windows,
    forward slack) are sorted by extra cost and checked exactly in that order; each is skipped with
    probability ``blink`` (SISR's blinks, for diversity). vehicle == -1 when nothing fits.
    """
    full, lens, x, load, slack, _, cum = routes
    T, D, lo, hi, q, _, n_req, maxride, maxdur, wt = data
    n_veh = lens.shape[0]
    p = r
    d = n_req + r
    persons = q[p, 0] + q[p, 1]
    wd = wt[0]
    wr = wt[1]
    ncand = 0
    size = 1
    for v in range(n_veh):
        size += (lens[v] + 1) * (lens[v] + 2) // 2
    cd = np.empty(size, dtype=np.int64)
    cv = np.empty(size, dtype=np.int64)
    ci = np.empty(size, dtype=np.int64)
    cj = np.empty(size, dtype=np.int64)
    for v in range(n_veh):
        if not allowed[r, v]:
            continue
        k = lens[v]
        c0 = cap[v, 0]
        c1 = cap[v, 1]
        fixed = wt[2] + wd * D[full[v, 0], full[v, 1]] if k == 0 else 0  # an unused vehicle costs 0
        if not has_pick[r]:
            # A rider on board counts in the load from the start until their drop-off: every arc
            # before it must have room for them (moving the drop-off later can overfill the car).
            for j in range(k + 1):
                if load[v, j, 0] > c0 or load[v, j, 1] > c1:
                    break
                c = full[v, j]
                e = full[v, j + 1]
                if x[v, j] > hi[d]:
                    break
                arr_d = x[v, j] + T[c, d]
                if arr_d > hi[d]:
                    continue
                st_d = max(arr_d, lo[d])
                if st_d + T[d, e] - x[v, j + 1] > slack[v, j + 1]:
                    continue
                if ncand < cd.shape[0]:
                    cd[ncand] = wd * (D[c, d] + D[d, e] - D[c, e]) + fixed
                    if wr != 0:
                        aboard = load[v, j, 0] + load[v, j, 1]
                        own = cum[v, j] + T[c, d] - T[full[v, 0], d]
                        cd[ncand] += wr * (aboard * (T[c, d] + T[d, e] - T[c, e]) + persons * own)
                    cv[ncand] = v
                    ci[ncand] = -1
                    cj[ncand] = j
                    ncand += 1
            continue
        q0 = q[p, 0]
        q1 = q[p, 1]
        for i in range(k + 1):
            if x[v, i] > hi[p]:
                break
            a = full[v, i]
            b = full[v, i + 1]
            arr_p = x[v, i] + T[a, p]
            if arr_p > hi[p]:
                continue
            if load[v, i, 0] + q0 > c0 or load[v, i, 1] + q1 > c1:
                continue
            st_p = max(arr_p, lo[p])
            arr_d = st_p + T[p, d]
            if arr_d <= hi[d]:
                st_d = max(arr_d, lo[d])
                if st_d + T[d, b] - x[v, i + 1] <= slack[v, i + 1] and ncand < cd.shape[0]:
                    cd[ncand] = wd * (D[a, p] + D[p, d] + D[d, b] - D[a, b]) + fixed
                    if wr != 0:
                        aboard_i = load[v, i, 0] + load[v, i, 1]
                        cd[ncand] += wr * aboard_i * (T[a, p] + T[p, d] + T[d, b] - T[a, b])
                    cv[ncand] = v
                    ci[ncand] = i
                    cj[ncand] = i
                    ncand += 1
            if st_p + T[p, b] - x[v, i + 1] > slack[v, i + 1]:
                continue
            dp = wd * (D[a, p] + D[p, b] - D[a, b]) + fixed
            own_p = np.int64(0)
            if wr != 0:
                dp += wr * (load[v, i, 0] + load[v, i, 1]) * (T[a, p] + T[p, b] - T[a, b])
                own_p = T[p, b] - cum[v, i + 1] - T[p, d]
            for j in range(i + 1, k + 1):
                if load[v, j, 0] + q0 > c0 or load[v, j, 1] + q1 > c1:
                    break
                if x[v, j] > hi[d]:
                    break
                c = full[v, j]
                e = full[v, j + 1]
                arr_d = x[v, j] + T[c, d]
                if arr_d > hi[d]:
                    continue
                # The rider boards no later than hi[p] and rides at least until arr_d.
                if arr_d - hi[p] > maxride[r]:
                    break
                st_d = max(arr_d, lo[d])
                if st_d + T[d, e] - x[v, j + 1] > slack[v, j + 1]:
                    continue
                if ncand < cd.shape[0]:
                    cd[ncand] = dp + wd * (D[c, d] + D[d, e] - D[c, e])
                    if wr != 0:
                        aboard = load[v, j, 0] + load[v, j, 1]
                        own = own_p + cum[v, j] + T[c, d]
                        cd[ncand] += wr * (aboard * (T[c, d] + T[d, e] - T[c, e]) + persons * own)
                    cv[ncand] = v
                    ci[ncand] = i
                    cj[ncand] = j
                    ncand += 1
    if ncand == 0:
        return -1, 0
    order = np.argsort(cd[:ncand], kind="mergesort")
    for o in range(ncand):
        c = order[o]
        if blink > 0.0 and np.random.random() < blink:
            continue
        v = cv[c]
        m = _build(full[v], lens[v], p, d, ci[c], cj[c], seq)
        if _schedule(seq, m, v, T, lo, hi, n_req, maxride, maxdur, xs, pickpos):
            return v, m
    return -1, 0


@njit(cache=True)
def _build(route, k, p, d, i, j, seq):
    """route (k stops between depots) with p after position i and d after position j (i == -1: no p)."""
    m = 0
    for t in range(k + 2):
        seq[m] = route[t]
        m += 1
        if t == i:
            seq[m] = p
            m += 1
        if t == j:
            seq[m] = d
            m += 1
    return m


@njit(cache=True)
def _remove(v, r, n_req, full, lens):
    k = lens[v]
    w = 1
    for t in range(1, k + 1):
        nd = full[v, t]
        if nd == r or nd == n_req + r:
            continue
        full[v, w] = nd
        w += 1
    full[v, w] = full[v, k + 1]
    lens[v] = w - 1


@njit(cache=True)
def _cost(routes_cost, where):
    """The routes' weighted cost plus the penalty for every request left out."""
    c = np.int64(routes_cost)
    for r in range(where.shape[0]):
        if where[r] < 0:
            c += UNSERVED_COST
    return c


@njit(cache=True)
def run(
    iterations,
    temp0,
    temp1,
    seed,
    reseed,
    data,
    cap,
    allowed,
    has_pick,
    neigh,
    mandatory,
    routes,
    where,
    best_full,
    best_lens,
    best_where,
    params,
):
    """``iterations`` ruin-and-recreate steps with simulated-annealing acceptance (temperature falling
    geometrically from ``temp0`` to ``temp1`` over them). The current solution lives in (full, lens,
    where, ...) and the best in best_*; both are updated in place. Returns (current cost, best cost).

    params: [min removed, max removed, blink probability, max string length, p(random), p(related)].
    routes = (full, lens, x, load, slack, vcost, cum) and data = (T, D, lo, hi, q, init_load, n_req,
    maxride, maxdur, wt) as in ``_refresh``.
    """
    if reseed:
        np.random.seed(seed)
    full, lens, _, _, _, vcost, _ = routes
    _, D, lo, hi, _, _, n_req, _, _, _ = data
    n_veh = lens.shape[0]
    maxlen = full.shape[1]
    pickpos = -np.ones(n_req, dtype=np.int64)
    seq = np.empty(maxlen, dtype=full.dtype)
    xs = np.empty(maxlen, dtype=np.int64)
    save_full = full.copy()
    save_lens = lens.copy()
    save_where = where.copy()
    touched = np.zeros(n_veh, dtype=np.bool_)  # routes changed this step
    visited = np.zeros(n_veh, dtype=np.bool_)  # routes a string was cut from this step
    removed = np.empty(n_req, dtype=np.int64)
    is_removed = np.zeros(n_req, dtype=np.bool_)
    keys = np.empty(n_req, dtype=np.float64)
    min_q = int(params[0])
    max_q = int(params[1])
    blink = params[2]
    max_string = int(params[3])
    p_random = params[4]
    p_related = params[5]
    cur = _cost(vcost.sum(), where)
    # the caller's best may be a different solution than the current: its cost from its own routes
    scratch = np.empty(maxlen, dtype=np.int64)
    best_routes = np.int64(0)
    for v in range(n_veh):
        best_routes += _route_cost(best_full[v], best_lens[v], data, scratch)
    best = _cost(best_routes, best_where)
    if n_req == 0:
        return cur, best
    for it in range(iterations):
        frac = it / max(1, iterations)
        temp = temp0 * (temp1 / temp0) ** frac if temp0 > 0 else 0.0
        save_full[:, :] = full
        save_lens[:] = lens
        save_where[:] = where
        touched[:] = False
        # ---- ruin -------------------------------------------------------------------------
        n_rm = 0
        want = min_q + np.random.randint(0, max(1, max_q - min_q + 1))
        if want > n_req:
            want = n_req
        u = np.random.random()
        if u < p_random:
            while n_rm < want:
                r = np.random.randint(0, n_req)
                if not is_removed[r]:
                    is_removed[r] = True
                    removed[n_rm] = r
                    n_rm += 1
        elif u < p_random + p_related:
            seed_r = np.random.randint(0, n_req)
            is_removed[seed_r] = True
            removed[0] = seed_r
            n_rm = 1
            for t in range(neigh.shape[1]):
                if n_rm >= want:
                    break
                r2 = neigh[seed_r, t]
                if r2 < 0 or is_removed[r2]:
                    continue
                if np.random.random() < 0.25:  # randomised Shaw removal: skip some of the closest
                    continue
                is_removed[r2] = True
                removed[n_rm] = r2
                n_rm += 1
        else:
            # string removal (SISR): a run of consecutive stops around the seed, then around its
            # neighbours in other routes, each stop taking its whole request with it
            seed_r = np.random.randint(0, n_req)
            t = -1
            while n_rm < want:
                if t < 0:
                    r0 = seed_r
                else:
                    if t >= neigh.shape[1]:
                        break
                    r0 = neigh[seed_r, t]
                t += 1
                if r0 < 0 or is_removed[r0]:
                    continue
                v = where[r0]
                if v < 0:
                    is_removed[r0] = True
                    removed[n_rm] = r0
                    n_rm += 1
                    continue
                if visited[v]:
                    continue
                visited[v] = True
                k = lens[v]
                pos = 1
                for s in range(1, k + 1):
                    if full[v, s] == r0 or full[v, s] == n_req + r0:
                        pos = s
                        break
                length = 1 + np.random.randint(0, max(1, min(max_string, k)))
                start = pos - np.random.randint(0, length)
                if start < 1:
                    start = 1
                for s in range(start, min(k + 1, start + length)):
                    nd = full[v, s]
                    rr = nd if nd < n_req else nd - n_req
                    if nd < 2 * n_req and not is_removed[rr]:
                        is_removed[rr] = True
                        removed[n_rm] = rr
                        n_rm += 1
            visited[:] = False
        for t in range(n_rm):
            r = removed[t]
            v = where[r]
            if v >= 0:
                _remove(v, r, n_req, full, lens)
                touched[v] = True
                where[r] = -1
        for v in range(n_veh):
            if touched[v]:
                _refresh(v, routes, data, pickpos)
        # ---- recreate: removed requests and any still unserved, in one of four orders --------------
        n_ins = 0
        for r in range(n_req):
            if where[r] < 0:
                removed[n_ins] = r
                n_ins += 1
        order_kind = np.random.randint(0, 4)
        for t in range(n_ins):
            r = removed[t]
            if order_kind == 0:
                keys[t] = np.random.random()
            elif order_kind == 1:
                keys[t] = lo[r] if has_pick[r] else lo[n_req + r]  # earliest pickup first
            elif order_kind == 2:
                keys[t] = -float(D[r, n_req + r]) if has_pick[r] else 0.0  # longest trips first
            else:
                keys[t] = hi[n_req + r] - lo[r] if has_pick[r] else 0.0  # tightest first
        order = np.argsort(keys[:n_ins])
        for t in range(n_ins):
            r = removed[order[t]]
            v, m = _best_insertion(r, routes, data, cap, allowed, has_pick, pickpos, blink, seq, xs)
            if v < 0:
                continue
            full[v, :m] = seq[:m]
            lens[v] = m - 2
            where[r] = v
            touched[v] = True
            _refresh(v, routes, data, pickpos)
        for t in range(n_req):
            is_removed[t] = False
        new = _cost(vcost.sum(), where)
        kept = True  # a request promised to a rider must stay routed: no trade of one for another
        for r in range(n_req):
            if mandatory[r] and where[r] < 0:
                kept = False
                break
        if kept and new < cur - temp * math.log(1.0 - np.random.random()):
            cur = new
            if new < best:
                best = new
                best_full[:, :] = full
                best_lens[:] = lens
                best_where[:] = where
        else:
            full[:, :] = save_full
            lens[:] = save_lens
            where[:] = save_where
            for v in range(n_veh):
                if touched[v]:
                    _refresh(v, routes, data, pickpos)
    return cur, best


@njit(cache=True)
def refresh_all(routes, data):
    """Fill the caches of every route (see ``_refresh``); False if some route is infeasible."""
    pickpos = -np.ones(data[6], dtype=np.int64)
    ok = True
    for v in range(routes[1].shape[0]):
        if not _refresh(v, routes, data, pickpos):
            ok = False
    return ok
