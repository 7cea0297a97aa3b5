"""Targets and the printed table, both derived from the results dict alone.

Keeping them pure functions of results.json means a saved results file can be
re-rendered or compared without rerunning anything.
"""

from __future__ import annotations

import statistics

from collections.abc import Mapping
from typing import Any, TypeGuard

MOCK, CEILING, LOCALSTRIPE = "mockstripe", "ceiling", "localstripe"
ROWS = (
    ("customers.create", "POST /v1/customers"),
    ("customers.retrieve", "GET /v1/customers/{id}"),
    ("meter_events.create", "POST /v1/billing/meter_events"),
    ("invoices.create_preview", "POST /v1/invoices/create_preview"),
    ("generic.create", "POST /v1/coupons (generic)"),
)

Results = Mapping[str, Any]


def _measured(cell: Any) -> bool:
    return isinstance(cell, Mapping) and "na" not in cell and "rps" in cell


def _na(cell: Any) -> str:
    """Short form of why a cell has no number."""
    reason = str(cell.get("na", "")) if isinstance(cell, Mapping) else str(cell)
    if reason.startswith("404"):
        return "n/a (404)"
    if reason.startswith("error"):
        return "error"
    if "unavailable" in reason:
        return "n/a (down)"
    if reason.startswith("load budget"):
        return "n/a (slow load)"
    return "n/a"


def _rps(cell: Any, key: str = "rps") -> str:
    return f"{cell[key]:,.0f}" if _measured(cell) else _na(cell)


def _ratio(a: Any, b: Any) -> float | None:
    if _measured(a) and _measured(b) and b["rps"]:
        return float(a["rps"]) / float(b["rps"])
    return None


def _x(r: float | None) -> str:
    return f"{r:.2f}×" if r is not None else "–"


def _levels(results: Results) -> list[Mapping[str, Any]]:
    lat = results.get("preview_latency", {})
    return list(lat.get("levels", [])) if isinstance(lat, Mapping) else []


def _latency_ratio(results: Results) -> tuple[float | None, str]:
    timed = {lv["events"]: lv["median_ms"] for lv in _levels(results) if "median_ms" in lv}
    if 10**3 in timed and timed:
        top = max(timed)
        if top > 10**3:
            return timed[top] / timed[10**3], f"10^{len(str(top)) - 1}/10^3"
    return None, "10^6/10^3"


def targets(results: Results) -> list[dict[str, Any]]:
    """Each target with its measured value and pass (True/False) or None when not measurable."""
    tp = results.get("throughput", {})
    out: list[dict[str, Any]] = []

    def add(name: str, value: float | None, ok: bool | None, shown: str) -> None:
        out.append({"target": name, "value": value, "pass": ok, "shown": shown})

    for key, label in ROWS[:3]:
        row = tp.get(key, {})
        r = _ratio(row.get(MOCK), row.get(CEILING))
        add(f"{label} ≥ 0.6× ceiling", r, None if r is None else r >= 0.6, _x(r))
    row = tp.get("customers.create", {})
    r = _ratio(row.get(MOCK), row.get(LOCALSTRIPE))
    add("POST /v1/customers ≥ 20× localstripe", r, None if r is None else r >= 20, _x(r))

    generic, customers = tp.get("generic.create", {}), tp.get("customers.create", {})
    r = _ratio(generic.get(MOCK), customers.get(MOCK))
    add("generic create ≥ 0.5× POST /v1/customers", r, None if r is None else r >= 0.5, _x(r))

    stream = results.get("stream", {})
    eps = float(stream["events_per_s"]) if _measured(stream) else None
    add("v2 meter_event_stream ≥ 100,000 events/s", eps, None if eps is None else eps >= 100_000,
        f"{eps:,.0f}/s" if eps is not None else _na(stream))
    alerted = results.get("stream_alerts", {})
    r = _ratio(alerted, stream)
    add("v2 stream with 100 active alerts ≥ 0.9× without", r, None if r is None else r >= 0.9,
        _x(r) if r is not None else _na(alerted))

    ratio, span = _latency_ratio(results)
    add(f"create_preview latency {span} ≤ 2×", ratio, None if ratio is None else ratio <= 2,
        _x(ratio) if ratio is not None else _na(results.get("preview_latency", {})))

    mem = results.get("memory", {})
    bpe = mem.get("bytes_per_event") if isinstance(mem, Mapping) else None
    add(f"RSS per stored event ≤ 250 B (over {mem.get('events', 0):,} events)" if bpe is not None
        else "RSS per stored event ≤ 250 B", bpe, None if bpe is None else bpe <= 250,
        f"{bpe:,.0f} B" if bpe is not None else _na(mem))

    full = results.get("full_store", {})
    stored = _stored(full)
    at = f"@ {full['customers']:,} customers" if stored else "with a full store"
    p99 = float(full["full"]["p99_ms"]) if stored else None
    add(f"POST /v1/customers {at}: p99 ≤ 5 ms", p99, None if p99 is None else p99 <= 5,
        f"{p99:.2f} ms{_ceiling_p99(full)}" if p99 is not None else _na(full))
    kept = _ratio(full["full"], full["empty"]) if stored else None
    add(f"POST /v1/customers {at} ≥ 0.9× empty store", kept, None if kept is None else kept >= 0.9,
        _x(kept) if kept is not None else _na(full))

    soaked = results.get("soak")
    if isinstance(soaked, Mapping):
        growth = soaked.get("growth_after_warmup")
        add(f"soak ({soaked.get('minutes', '?')} min, {soaked.get('keys', 0):,} keys): RSS flat after warm-up (≤ 10%)",
            growth, None if growth is None else growth <= 0.10,
            f"{growth:+.1%}" if growth is not None else _na(soaked))

    cold = results.get("cold_start", {})
    med = cold.get("median_s") if isinstance(cold, Mapping) else None
    add("cold start to healthy < 1 s", med, None if med is None else med < 1.0,
        f"{med:.2f} s" if med is not None else _na(cold))

    kept = results.get("persistence", {})
    r = _ratio(kept.get("on"), kept.get("off")) if isinstance(kept, Mapping) else None
    add("POST /v1/customers with --data-dir ≥ 0.7× without (req/s)", r, None if r is None else r >= 0.7,
        _x(r) if r is not None else _na(kept))
    restarted = kept.get("restart", {}) if isinstance(kept, Mapping) else {}
    took = restarted.get("restart_s") if isinstance(restarted, Mapping) else None
    objects = restarted.get("objects", 0) if isinstance(restarted, Mapping) else 0
    add(f"restart with {objects:,} stored objects < 10 s" if took is not None else "restart with 10^6 stored objects < 10 s",
        took, None if took is None else took < 10 and objects == restarted["objects_before_kill"],
        f"{took:.1f} s" if took is not None else _na(restarted or kept))

    hooks = results.get("webhooks", {})
    r = _capacity_ratio(hooks, "no_events", "plain")
    add("POST /v1/customers recording events ≥ 0.9× with recording off (by server CPU per request)", r,
        None if r is None else r >= 0.9, _x(r) if r is not None else _na(hooks))
    r = _capacity_ratio(hooks, "plain", "with_endpoint")
    add("POST /v1/customers with a receiver for every event ≥ 0.75× without (by server CPU per request)", r,
        None if r is None else r >= 0.75, _x(r) if r is not None else _na(hooks))
    drain = results.get("delivery", {})
    rate = drain.get("webhooks_per_s") if isinstance(drain, Mapping) and "na" not in drain else None
    if rate is not None:
        exact = drain["lost"] == 0 and drain["duplicates"] == 0 and drain["unverified"] == 0
        add(f"≥ 2,000 signed webhooks/s to one receiver, none lost or duplicated (over {drain['events']:,})", rate,
            rate >= 2000 and exact, f"{rate:,.0f}/s, lost {drain['lost']:,}, duplicated {drain['duplicates']:,}")
    else:
        add("≥ 2,000 signed webhooks/s to one receiver, none lost or duplicated", None, None, _na(drain))

    # wrk is not what limits mockstripe if the same wrk, with the same
    # connections, drove the ceiling faster than mockstripe went on any
    # route, without itself using a whole core.
    ceiling_best = max((float(c["rps"]) for c in _cells(tp, CEILING)), default=None)
    mock_best = max((float(c["rps"]) for c in _cells(tp, MOCK)), default=None)
    wrk_cpu = max((float(c["wrk_cpu"]) for c in _all_runs(results)), default=None)
    if ceiling_best is not None and mock_best is not None and wrk_cpu is not None:
        add("load generator not the bottleneck (wrk drove the ceiling faster, wrk < 90% cpu)",
            ceiling_best / mock_best, ceiling_best > mock_best and wrk_cpu < 0.9,
            f"{ceiling_best:,.0f} vs {mock_best:,.0f} req/s, wrk ≤ {wrk_cpu:.0%} cpu")
    else:
        add("load generator not the bottleneck (wrk drove the ceiling faster, wrk < 90% cpu)", None, None, "–")
    return out


def _capacity_ratio(hooks: Any, before: str, after: str) -> float | None:
    """How many requests a second the server could take in case `after`, relative to `before`:
    the inverse ratio of its CPU per request, deliveries included."""
    if not isinstance(hooks, Mapping) or not all(_measured(hooks.get(k)) for k in (before, after)):
        return None
    # Each round loads both at the same time: the median of the rounds' ratios.
    rounds = zip(hooks[before]["rounds_cpu_us"], hooks[after]["rounds_cpu_us"], strict=True)
    return statistics.median(float(b) / float(a) for b, a in rounds)


def _stored(full: Any) -> bool:
    """Whether the full-store row has both of its measurements."""
    return isinstance(full, Mapping) and _measured(full.get("empty")) and _measured(full.get("full"))


def _ceiling_p99(full: Mapping[str, Any]) -> str:
    """The aiohttp ceiling's p99 under the same load, beside a p99 judged against a fixed bound."""
    ceiling = full.get("ceiling")
    return f" (ceiling {ceiling['p99_ms']:.2f} ms)" if isinstance(ceiling, Mapping) and "p99_ms" in ceiling else ""


def _latencies(cell: Mapping[str, Any]) -> str:
    return f"{cell['rps']:,.0f} req/s, p50 {cell['p50_ms']:.2f} ms, p99 {cell['p99_ms']:.2f} ms"


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    """Columns padded to fit; the first `left` columns are text, the rest numbers."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def render(results: Results) -> str:
    meta = results.get("meta", {})
    tp = results.get("throughput", {})
    parts = [
        f"mockstripe bench @ {meta.get('commit')}  ({meta.get('cpus')} cpus, wrk {meta.get('wrk_args')}, "
        f"ceiling loop: {meta.get('ceiling_loop')}, took {meta.get('elapsed_s')} s)",
        "",
    ]

    rows = []
    for key, label in ROWS:
        row = tp.get(key, {})
        rows.append([
            label, _rps(row.get(MOCK)), _rps(row.get(CEILING)), _rps(row.get(LOCALSTRIPE)),
            _x(_ratio(row.get(MOCK), row.get(CEILING))), _x(_ratio(row.get(MOCK), row.get(LOCALSTRIPE))),
        ])
    stream = results.get("stream", {})
    rows.append(["v2 meter_event_stream, events/s", _rps(stream, "events_per_s"), "–", "–", "–", "–"])
    alerted = results.get("stream_alerts", {})
    rows.append(["  with 100 active alerts", _rps(alerted, "events_per_s"), "–", "–", "–", "–"])
    parts.append(_table(["req/s", MOCK, CEILING, LOCALSTRIPE, "mock/ceiling", "mock/localstripe"], rows))

    parts.append("")
    parts.append(_table(["instructions per request", MOCK, CEILING, "ceiling/mock"], _instruction_rows(results)))

    parts.append("")
    lat = results.get("preview_latency", {})
    scale_rows = []
    for lv in _levels(results):
        value = (f"{lv['median_ms']:.2f} ms median of {lv['samples']}"
                 + ("" if lv.get("total_ok") else f"  (total {lv.get('total')} ≠ {lv.get('expected_total')})")
                 if "median_ms" in lv else _na(lv))
        scale_rows.append([f"create_preview @ {lv['events']:,} events", value])
    if not scale_rows:
        scale_rows.append(["create_preview latency", _na(lat)])
    elif isinstance(lat, Mapping) and lat.get("load_events_per_s"):
        scale_rows.append(["  (events loaded via", f"{lat['via']} at {lat['load_events_per_s']:,.0f}/s)"])
    mem = results.get("memory", {})
    if isinstance(mem, Mapping) and mem.get("bytes_per_event") is not None:
        scale_rows.append(["RSS per stored event",
                           f"{mem['bytes_per_event']:,.0f} B ({mem['rss_before'] / 2**20:,.1f} → "
                           f"{mem['rss_after'] / 2**20:,.1f} MiB over {mem['events']:,} events)"])
    else:
        scale_rows.append(["RSS per stored event", _na(mem)])
    full = results.get("full_store", {})
    if _stored(full):
        ceiling = full.get("ceiling")
        scale_rows.append(["POST /v1/customers, aiohttp ceiling",
                           _latencies(ceiling) if isinstance(ceiling, Mapping) and "p99_ms" in ceiling else _na(ceiling or {})])
        scale_rows.append(["POST /v1/customers, empty store", _latencies(full["empty"])])
        scale_rows.append([f"POST /v1/customers @ {full['customers']:,} customers", _latencies(full["full"])])
        scale_rows.append(["  (customers stored at", f"{full['load_per_s']:,.0f}/s, RSS then "
                           f"{(full.get('rss_after_load') or 0) / 2**20:,.0f} MiB)"])
    else:
        scale_rows.append(["POST /v1/customers with a full store", _na(full)])
    soaked = results.get("soak")
    if isinstance(soaked, Mapping) and "rss_end" in soaked:
        scale_rows.append([f"soak, {soaked['minutes']:g} min over {soaked['keys']:,} keys",
                           f"{soaked['rps']:,.0f} req/s, p99 {soaked['p99_ms']:.2f} ms, RSS "
                           f"{soaked['rss_after_warmup'] / 2**20:,.0f} MiB after warm-up, at most "
                           f"{soaked['rss_max_after_warmup'] / 2**20:,.0f}, {soaked['rss_end'] / 2**20:,.0f} at the end"])
    elif isinstance(soaked, Mapping):
        scale_rows.append(["soak", _na(soaked)])
    cold = results.get("cold_start", {})
    scale_rows.append(["cold start to healthy",
                       f"{cold['median_s']:.3f} s median of {len(cold['runs_s'])}"
                       if isinstance(cold, Mapping) and "median_s" in cold else _na(cold)])
    parts.append(_table(["scaling", "mockstripe"], scale_rows, left=2))

    parts.append("")
    hooks = results.get("webhooks", {})
    hook_rows = []
    for name, label in (("no_events", "POST /v1/customers, event recording off"),
                        ("plain", "POST /v1/customers, no endpoint"),
                        ("with_endpoint", "POST /v1/customers, one receiver for *")):
        cell = hooks.get(name) if isinstance(hooks, Mapping) else None
        hook_rows.append([label, f"{_rps(cell)} req/s, {cell['cpu_us_per_request']:.0f} µs server cpu per request"
                          if _measured(cell) else _na(hooks)])
    if isinstance(hooks, Mapping) and "receiver" in hooks:
        got = hooks["receiver"]
        hook_rows.append(["  (receiver got", f"{got['unique']:,} events, {got['duplicates']:,} duplicated, "
                                             f"{got['unverified']:,} unverified)"])
    drain = results.get("delivery", {})
    if isinstance(drain, Mapping) and drain.get("webhooks_per_s"):
        hook_rows.append([f"delivery of {drain['events']:,} queued webhooks",
                          f"{drain['webhooks_per_s']:,.0f}/s over {drain['drain_s']:.1f} s; lost {drain['lost']:,}, "
                          f"duplicated {drain['duplicates']:,}, unverified {drain['unverified']:,} "
                          f"(queued at {drain['load_events_per_s']:,.0f} req/s)"])
        per_webhook = {side: drain[f"{side}_cpu"] / drain["webhooks_per_s"] * 1e6 for side in ("mockstripe", "receiver")}
        hook_rows.append(["  (cpu per webhook", f"mockstripe {per_webhook['mockstripe']:.0f} µs at "
                                                f"{drain['mockstripe_cpu']:.0%} of a core, receiver "
                                                f"{per_webhook['receiver']:.0f} µs at {drain['receiver_cpu']:.0%})"])
    else:
        hook_rows.append(["delivery of queued webhooks", _na(drain)])
    parts.append(_table(["webhooks", "mockstripe"], hook_rows, left=2))

    parts.append("")
    kept = results.get("persistence", {})
    kept_rows = []
    for name, label in (("off", "POST /v1/customers, in memory only"), ("on", "POST /v1/customers, --data-dir")):
        cell = kept.get(name) if isinstance(kept, Mapping) else None
        kept_rows.append([label, f"{_latencies(cell)}, {cell['cpu_us_per_request']:.0f} µs server cpu per request"
                          if _measured(cell) else _na(kept)])
    restarted = kept.get("restart") if isinstance(kept, Mapping) else None
    if isinstance(restarted, Mapping) and "restart_s" in restarted:
        kept_rows.append([f"restart after SIGKILL, {restarted['objects']:,} objects",
                          f"{restarted['restart_s']:.1f} s to healthy (snapshot {restarted['snapshot_bytes'] / 2**20:,.0f} MiB "
                          f"+ journal {restarted['journal_bytes'] / 2**20:,.0f} MiB; load average "
                          f"{restarted['load_average']:.1f}; {restarted['objects_before_kill']:,} before the kill)"])
    else:
        kept_rows.append(["restart with 10^6 stored objects", _na(restarted or kept)])
    parts.append(_table(["persistence", "mockstripe"], kept_rows, left=2))

    parts.append("")
    runs = []
    for key, label in ROWS:
        for server, cell in tp.get(key, {}).items():
            if _measured(cell):
                runs.append(_run_row(f"{label} @ {server}", cell))
    if _measured(stream):
        runs.append(_run_row(f"v2 meter_event_stream @ {MOCK}", stream))
    if _stored(full):
        runs.append(_run_row(f"POST /v1/customers, empty store @ {MOCK}", full["empty"]))
        runs.append(_run_row(f"POST /v1/customers @ {full['customers']:,} customers @ {MOCK}", full["full"]))
    if _measured(alerted):
        runs.append(_run_row(f"v2 stream, 100 alerts @ {MOCK}", alerted))
    for name in ("plain", "with_endpoint"):
        cell = hooks.get(name) if isinstance(hooks, Mapping) else None
        if _measured(cell):
            runs.append(_run_row(f"POST /v1/customers ({name.replace('_', ' ')}) @ {MOCK}", cell))
    if runs:
        parts.append(_table(["wrk runs", "req/s", "p50 ms", "p99 ms", "non-2xx", "wrk cpu", "server cpu"], runs))
        parts.append("")

    tg = [[("PASS" if t["pass"] else "FAIL") if t["pass"] is not None else "n/a", t["target"], t["shown"]]
          for t in results.get("targets", [])]
    parts.append(_table(["result", "target", "measured"], tg, left=2))

    notes = _notes(results)
    if notes:
        parts.append("")
        parts.append("why n/a:")
        parts.extend(f"  {n}" for n in notes)
    return "\n".join(parts)


def _instruction_rows(results: Results) -> list[list[str]]:
    """Per route: what a request costs each server in instructions, and the share of mockstripe's cost
    the ceiling's is (comparable with mock/ceiling in req/s)."""
    counted = results.get("instructions", {})
    rows = []
    stream = counted.get("stream", {}).get(MOCK) if isinstance(counted, Mapping) else None
    batch = f", {stream['events_per_request']} events" if _counted(stream) else ""
    for key, label in (*ROWS[:3], ("stream", f"v2 meter_event_stream{batch}")):
        row = counted.get(key, {}) if isinstance(counted, Mapping) else {}
        mock, ceiling = row.get(MOCK), row.get(CEILING)
        shown = [f"{cell['per_request']:,.0f}" if _counted(cell) else _na(cell or counted) for cell in (mock, ceiling)]
        if key == "stream":
            shown[1] = "–"  # the ceiling serves no v2 route
        ratio = ceiling["per_request"] / mock["per_request"] if _counted(mock) and _counted(ceiling) else None
        rows.append([label, *shown, _x(ratio)])
    return rows


def _counted(cell: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(cell, Mapping) and "per_request" in cell


def _run_row(label: str, cell: Mapping[str, Any]) -> list[str]:
    return [
        label, f"{cell['rps']:,.0f}", f"{cell['p50_ms']:.2f}", f"{cell['p99_ms']:.2f}",
        f"{cell['non2xx']:,}", f"{cell['wrk_cpu']:.0%}", f"{cell['server_cpu']:.0%}",
    ]


def _cells(tp: Mapping[str, Any], server: str) -> list[Mapping[str, Any]]:
    return [row[server] for row in tp.values() if _measured(row.get(server))]


def _all_runs(results: Results) -> list[Mapping[str, Any]]:
    """Every measured wrk cell, the v2 stream included."""
    cells = [c for row in results.get("throughput", {}).values() for c in row.values() if _measured(c)]
    streams = [results.get("stream"), results.get("stream_alerts")]
    return cells + [cell for cell in streams if _measured(cell)]


def _notes(results: Results) -> list[str]:
    """Each distinct reason behind an n/a or error cell, with the cells it explains."""
    found: list[tuple[str, str, Any]] = []
    for key, _ in ROWS:
        for server, cell in results.get("throughput", {}).get(key, {}).items():
            found.append((server, key, cell))
    for key in ("stream", "stream_alerts", "preview_latency", "memory", "full_store", "soak", "cold_start", "webhooks",
                "delivery", "persistence"):
        found.append((MOCK, key, results.get(key)))
    counted = results.get("instructions")
    if isinstance(counted, Mapping):
        found += [(server, f"instructions {key}", cell) for key, row in counted.items() for server, cell in row.items()]
    found += [(MOCK, f"preview @ {lv['events']:,}", lv) for lv in _levels(results)]
    by_reason: dict[str, dict[str, list[str]]] = {}
    for server, what, cell in found:
        if isinstance(cell, Mapping) and "na" in cell:
            by_reason.setdefault(str(cell["na"]), {}).setdefault(server, []).append(what)
    lines = []
    for reason, servers in by_reason.items():
        lines.append(reason)
        lines += [f"  {server}: {', '.join(whats)}" for server, whats in servers.items()]
    return lines
