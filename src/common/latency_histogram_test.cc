#include "common/latency_histogram.h"

#include <cstdint>
#include <random>

#include "gtest/gtest.h"

namespace shoal {
namespace {

TEST(LatencyHistogram, EveryValueFallsInsideItsBucket) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{7}, uint64_t{8}, uint64_t{15},
                     uint64_t{16}, uint64_t{1000}, uint64_t{123456789}, uint64_t{1} << 40}) {
    int b = LatencyHistogram::BucketOf(v);
    EXPECT_LE(v, LatencyHistogram::UpperBound(b)) << v;
    if (b > 0) EXPECT_GT(v, LatencyHistogram::UpperBound(b - 1)) << v;
  }
  // Buckets are contiguous and increasing.
  for (int b = 1; b < LatencyHistogram::kBuckets; ++b) {
    EXPECT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::UpperBound(b - 1) + 1), b) << b;
  }
}

TEST(LatencyHistogram, PercentilesAreWithinTheBucketPrecision) {
  LatencyHistogram h;
  EXPECT_EQ(h.PercentileNs(50), 0u);
  for (uint64_t v = 1; v <= 10000; ++v) h.Record(v * 1000);  // 1 us .. 10 ms, uniform.
  EXPECT_EQ(h.count(), 10000u);
  for (double p : {50.0, 99.0, 99.9}) {
    double want = p / 100 * 10000 * 1000;
    double got = static_cast<double>(h.PercentileNs(p));
    EXPECT_GE(got, want * 0.99) << p;
    EXPECT_LE(got, want * 1.13) << p;
  }
  EXPECT_LE(h.PercentileNs(50), h.PercentileNs(99));
  EXPECT_LE(h.PercentileNs(99), h.PercentileNs(100));
}

TEST(LatencyHistogram, MergeAddsCounts) {
  LatencyHistogram a, b;
  for (int i = 0; i < 100; ++i) a.Record(500);
  for (int i = 0; i < 100; ++i) b.Record(5'000'000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 200u);
  EXPECT_LT(a.PercentileNs(50), 1000u);
  EXPECT_GE(a.PercentileNs(51), 5'000'000u);
}

}  // namespace
}  // namespace shoal
