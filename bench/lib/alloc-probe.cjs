// Preloaded into the cluster bench's daemons by bench/cluster-alloc.mjs (node -r ...): V8's
// sampling heap profiler from start to exit, objects the GC collected included, so the
// profile shows everything a daemon allocated (not only what it kept). Written to
// $BENCH_ALLOC_DIR/<pid>.heapprofile when the bench stops the daemon (SIGTERM, before the
// daemon's own handler). Benchmarks only.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_ALLOC_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 2048,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  });
  process.prependListener('SIGTERM', () => {
    // (an in-process session answers synchronously)
    session.post('HeapProfiler.getSamplingProfile', (error, result) => {
      if (!error)
        writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
