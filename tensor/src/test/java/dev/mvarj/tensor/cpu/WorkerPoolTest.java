package dev.mvarj.tensor.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerPoolTest {

    @Test
    void chunkBoundariesDoNotDependOnThePoolSize() {
        for (int threads = 1; threads <= 3; threads++) {
            WorkerPool pool = new WorkerPool(threads);
            try {
                ConcurrentLinkedQueue<String> chunks = new ConcurrentLinkedQueue<>();
                pool.parallelFor(103, 10, (s, e) -> chunks.add(s + "-" + e));
                assertThat(chunks).hasSize(11).contains("0-10", "90-100", "100-103");
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        WorkerPool pool = new WorkerPool(3);
        try {
            int[] hits = new int[10_007];
            for (int rep = 0; rep < 50; rep++) {
                pool.parallelFor(hits.length, 64, (s, e) -> {
                    for (int i = s; i < e; i++) {
                        hits[i]++;
                    }
                });
            }
            assertThat(hits).containsOnly(50);
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void exceptionsReachTheCallerAndThePoolKeepsWorking() {
        WorkerPool pool = new WorkerPool(2);
        try {
            assertThatThrownBy(() -> pool.parallelFor(100, 1, (s, e) -> {
                if (s == 57) {
                    throw new IllegalStateException("chunk 57 failed");
                }
            })).isInstanceOf(IllegalStateException.class).hasMessage("chunk 57 failed");
            AtomicInteger sum = new AtomicInteger();
            pool.parallelFor(100, 1, (s, e) -> sum.addAndGet(s));
            assertThat(sum.get()).isEqualTo(4950);
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void nestedLoopsRunInline() {
        WorkerPool pool = new WorkerPool(2);
        try {
            AtomicInteger count = new AtomicInteger();
            pool.parallelFor(8, 1, (s, e) -> pool.parallelFor(8, 1, (s2, e2) -> count.incrementAndGet()));
            assertThat(count.get()).isEqualTo(64);
        } finally {
            pool.shutdown();
        }
    }
}
