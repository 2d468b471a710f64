// Preloaded into a client under test (node --expose-gc -r bench/lib/heap-probe.cjs ...), by
// the benchmarks only: on SIGUSR2 it runs a full garbage collection and writes
// process.memoryUsage() to $BENCH_HEAP_FILE, so a benchmark can tell memory the client holds
// on to from garbage the allocator has not returned yet (RSS shows both).
const { writeFileSync } = require('node:fs');

const file = process.env.BENCH_HEAP_FILE;
if (file && typeof global.gc === 'function') {
  process.on('SIGUSR2', () => {
    global.gc();
    writeFileSync(file, JSON.stringify(process.memoryUsage()));
  });
}
