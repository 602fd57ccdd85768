# Part I, "The lost update" (book/src/part1/lost-update.md). NOT from the notes: bank_racy.py
# with one function call inside each update. CPython 3.10+ may switch threads at a call, so the
# read and the write of `balance` are split again and updates get lost.
import threading
balance = 0

def same(x):
    return x

def change_it(n):
    global balance
    balance = same(balance + n)
    balance = same(balance - n)

def run_thread(n):
    for i in range(1000000):
        change_it(n)

t1 = threading.Thread(target=run_thread, args=(5,))
t2 = threading.Thread(target=run_thread, args=(8,))
t1.start()
t2.start()
t1.join()
t2.join()
print(balance)
