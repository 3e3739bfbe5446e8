"""A dirty job whose result is posted but not yet handed over when its caller
dies (here: the node stops) is closed all the same: CPython's switch
interval, lowered while jobs are waited on, comes back."""

import sys
import threading
import time

import vm


def test_the_switch_interval_comes_back_when_the_node_stops_before_a_result_is_taken():
    before = sys.getswitchinterval()
    done = threading.Event()

    def job():
        done.set()

    def main():
        vm.spawn(lambda: vm.to_thread(job))
        vm.sleep(0)  # let it submit the job
        done.wait(5)
        time.sleep(0.05)  # the node's thread is busy: the result stays posted, untaken
        # returning stops the node: the waiting process is killed with its result pending

    for _ in range(3):
        vm.run(main, preempt=False)
        assert sys.getswitchinterval() == before
