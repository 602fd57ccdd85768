"""The mp_throughput pool workload in Python: Pool(WORKERS).map of TASKS tiny tasks, with the
default chunksize. The pool is started and warmed up (one small map) before the clock starts.
Prints the seconds of the timed map and the sum of its results. Run by
`cargo run --release --features serde --example mp_throughput`.

    python3 mp_pool_map.py [TASKS WORKERS]    (default: 10000 2)
"""
import multiprocessing
import sys
import time


def tiny(n):
    return n * 2 + 1


def main():
    args = sys.argv[1:] or ["10000", "2"]
    tasks, workers = int(args[0]), int(args[1])
    with multiprocessing.Pool(workers) as pool:
        pool.map(tiny, range(workers))  # every worker up and serving
        start = time.perf_counter()
        results = pool.map(tiny, range(tasks))
        elapsed = time.perf_counter() - start
    print(f"{elapsed:.6f} {sum(results)}")


if __name__ == "__main__":
    main()
