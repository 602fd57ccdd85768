"""The mp_throughput workload in Python: PRODUCERS processes put ITEMS items each into one
multiprocessing.Queue, the parent gets them all. Prints the seconds from the first start to the
last get. Run by `cargo run --release --features serde --example mp_throughput`.

    python3 mp_throughput.py [PRODUCERS ITEMS int|str]    (default: 10 10000 int)
"""
import multiprocessing
import sys
import time

PAD = "x" * 88  # "pp-iiiiii-" + 88 = 98 characters, about 100 bytes, as the Rust side sends


def produce(q, p, n, kind):
    if kind == "int":
        for i in range(n):
            q.put((p << 32) | i)
    else:
        for i in range(n):
            q.put(f"{p:02}-{i:06}-{PAD}")


def main():
    args = sys.argv[1:] or ["10", "10000", "int"]
    producers, n, kind = int(args[0]), int(args[1]), args[2]
    q = multiprocessing.Queue()
    start = time.perf_counter()
    procs = [multiprocessing.Process(target=produce, args=(q, p, n, kind)) for p in range(producers)]
    for proc in procs:
        proc.start()
    total = 0
    for _ in range(producers * n):
        item = q.get()
        total += item if kind == "int" else len(item)
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.join()
    print(f"{elapsed:.6f} {total}")


if __name__ == "__main__":
    main()
