# Part I, "Threads or processes?" (book/src/part1/threads-or-processes.md). NOT from the notes:
# the loopback crawler of examples/io_bound.rs in Python, to show that CPython's threads do
# speed up I/O-bound work (a thread waiting on a socket or in sleep() releases the GIL).
import queue
import socket
import threading
import time

PAGES, WORKERS, DELAY = 20, 10, 0.05

def handle(conn):
    with conn:
        request = conn.makefile().readline()
        time.sleep(DELAY)                      # the slow web site
        page = request.strip().removeprefix("GET /page/")
        conn.sendall(f"<html>page {page}</html>".encode())

def serve(listener):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()

def fetch(addr, page):
    with socket.create_connection(addr) as conn:
        conn.sendall(f"GET /page/{page}\n".encode())
        return b"".join(iter(lambda: conn.recv(4096), b"")).decode()

def worker(addr, jobs, results):
    while True:
        page = jobs.get()
        if page is None:                       # no more jobs
            return
        results.append((page, fetch(addr, page)))

listener = socket.create_server(("127.0.0.1", 0))
addr = listener.getsockname()
threading.Thread(target=serve, args=(listener,), daemon=True).start()

start = time.time()
pages = [fetch(addr, p) for p in range(PAGES)]
sequential = time.time() - start

jobs, results = queue.Queue(), []
for p in range(PAGES):
    jobs.put(p)
for _ in range(WORKERS):
    jobs.put(None)
start = time.time()
threads = [threading.Thread(target=worker, args=(addr, jobs, results)) for _ in range(WORKERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
threaded = time.time() - start

assert len(results) == PAGES and all(body == f"<html>page {p}</html>" for p, body in results)
print(f"sequential: {sequential:.3f} s, {WORKERS} threads: {threaded:.3f} s, "
      f"{sequential / threaded:.1f}x faster")
