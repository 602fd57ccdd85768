# Part I, "Event, Semaphore and Condition at work" (book/src/part1/primitives-at-work.md).
# NOT from the notes: the three patterns of examples/primitives_at_work.rs in Python.
import collections
import threading
import time

# 1. An Event as a starting gun.
gun = threading.Event()
ready = threading.Semaphore(0)
starts = []

def runner(i):
    time.sleep(i / 1000)          # lacing shoes: 0-7 ms
    ready.release()
    gun.wait()                    # on your marks...
    starts.append(time.perf_counter())

runners = [threading.Thread(target=runner, args=(i,)) for i in range(8)]
for r in runners:
    r.start()
for _ in runners:
    ready.acquire()               # every runner is ready
gun.set()                         # bang
for r in runners:
    r.join()
print(f"starting gun: starts spread over {(max(starts) - min(starts)) * 1e3:.3f} ms")

# 2. A Semaphore limiting concurrent downloads.
slots = threading.Semaphore(3)
lock = threading.Lock()
in_flight = most = 0

def download():
    global in_flight, most
    with slots:
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.01)          # the download
        with lock:
            in_flight -= 1

threads = [threading.Thread(target=download) for _ in range(12)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"downloads: at most {most} in flight")

# 3. Producer/consumer on a Lock and two Conditions, the way queue.Queue is built.
mutex = threading.Lock()
not_empty = threading.Condition(mutex)
not_full = threading.Condition(mutex)
items, producers_left, total = collections.deque(), 2, 0

def producer():
    global producers_left
    for i in range(1, 1001):
        with not_full:
            not_full.wait_for(lambda: len(items) < 4)
            items.append(i)
            not_empty.notify()
    with mutex:
        producers_left -= 1
        not_empty.notify_all()

def consumer():
    global total
    while True:
        with not_empty:
            not_empty.wait_for(lambda: items or producers_left == 0)
            if not items:
                return
            total += items.popleft()
            not_full.notify()

threads = [threading.Thread(target=f) for f in (producer, producer, consumer, consumer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"producer/consumer: sum {total} (expected {2 * 500500})")
