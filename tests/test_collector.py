"""The garbage collector schedule of the `mockstripe` command. Freezing is process-wide, so each
check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_isolated(code: str, source_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=source_env, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_everything_is_frozen_and_young_cycles_still_collected(source_env):
    run_isolated(
        """
        import gc, weakref
        from mockstripe.collector import Collector

        class Node:
            pass

        collector = Collector(lambda: 0)
        collector.start()
        store = [{"id": i, "nested": {"n": [i]}} for i in range(50_000)]
        collector.tick()
        assert gc.get_freeze_count() >= 100_000, gc.get_freeze_count()
        assert len(gc.get_objects(generation=2)) == 0

        cycle = Node(); cycle.me = cycle
        alive = weakref.ref(cycle)
        del cycle
        gc.collect(0)  # a cycle a young collection finds before the freeze is collected as usual
        assert alive() is None
        """,
        source_env,
    )


def test_a_frozen_cycle_that_dies_later_goes_at_the_next_full_collection(source_env):
    run_isolated(
        """
        import gc, weakref
        from mockstripe import collector as module

        class Node:
            pass

        served = [0]
        memory = [0]
        collector = module.Collector(lambda: served[0], lambda: memory[0])
        collector.start()
        cycle = Node(); cycle.me = cycle
        alive = weakref.ref(cycle)
        collector.tick()  # frozen while alive
        del cycle
        served[0] += 1
        collector.tick()
        assert alive() is not None  # out of the collector's sight
        memory[0] += module.FULL_COLLECTION_MINIMUM_BYTES
        served[0] += 1
        collector.tick()  # grown enough, but busy: still frozen
        assert alive() is not None
        collector.tick()  # idle and grown: everything is collected
        assert alive() is None
        """,
        source_env,
    )


def test_serving_requests_leaves_no_cyclic_garbage(source_env):
    """Freezing often is safe because what a request leaves behind is freed by reference counting:
    answers, errors raised by handlers and by validation, idempotent replays and unknown URLs."""
    run_isolated(
        """
        import gc, http.client, json
        from urllib.parse import urlsplit
        from mockstripe import serve_in_thread

        with serve_in_thread() as url:
            conn = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port)

            def call(method, path, body=None, **headers):
                conn.request(method, path, body, {"Authorization": "Bearer sk_test_cycles",
                             "Content-Type": "application/x-www-form-urlencoded", **headers})
                reply = conn.getresponse()
                return reply.status, json.loads(reply.read())

            def requests(i):
                status, customer = call("POST", "/v1/customers", "email=jenny%40example.com")
                assert status == 200
                assert call("POST", "/v1/customers/" + customer["id"], "name=Jenny+Rosen")[0] == 200
                assert call("GET", "/v1/customers?limit=3")[0] == 200
                assert call("GET", "/v1/customers/cus_missing")[0] == 404  # raised by the handler
                assert call("POST", "/v1/customers", "nme=x")[0] == 400  # refused by validation
                assert call("POST", "/v1/customers", "", **{"Idempotency-Key": f"k{i % 5}"})[0] == 200
                assert call("GET", "/v1/nothing")[0] == 404
                assert call("GET", "/v1/events?limit=2")[0] == 200

            for i in range(20):
                requests(i)
            gc.collect()
            gc.disable()
            for i in range(100):
                requests(i)
            found = gc.collect()
            assert found < 100, f"{found} objects in reference cycles after 800 requests"
        """,
        source_env,
    )


def test_running_freezes_young_objects_within_a_tick_and_collects_only_when_idle(source_env):
    run_isolated(
        """
        import asyncio, gc
        from mockstripe import collector as module

        collected = []
        gc.callbacks.append(lambda phase, info: phase == "stop" and collected.append(info["generation"]))

        async def main():
            served = [0]
            collector = module.Collector(lambda: served[0], lambda: 0)
            collector.start()
            running = asyncio.create_task(collector.run())
            frozen = gc.get_freeze_count()
            store = [{"id": i, "nested": {"n": [i]}} for i in range(5_000)]
            await asyncio.sleep(3 * module.FREEZE_EVERY_SECONDS)
            assert gc.get_freeze_count() >= frozen + 15_000, gc.get_freeze_count() - frozen
            assert len(gc.get_objects(generation=0)) < 1_000
            assert 2 not in collected  # memory did not grow: no full collection
            running.cancel()
            return store

        asyncio.run(main())
        """,
        source_env,
    )
