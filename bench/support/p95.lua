done = function(summary, latency, requests)
  io.write(string.format("BENCH p95_us=%d p50_us=%d rps=%.1f errors=%d\n",
    latency:percentile(95), latency:percentile(50),
    summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
