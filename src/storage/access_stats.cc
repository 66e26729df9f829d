#include "storage/access_stats.h"

namespace shoal::storage {
namespace {

uint32_t Minutes(int64_t now_ms) { return static_cast<uint32_t>(now_ms / 60000) & 0xffff; }

// Minutes elapsed since `then` on the 16-bit minutes clock, allowing one wrap.
uint32_t MinutesSince(uint32_t then, int64_t now_ms) {
  uint32_t now = Minutes(now_ms);
  return now >= then ? now - then : 65535 - then + now;
}

}  // namespace

uint32_t AccessStats::Initial(int64_t now_ms) {
  if (LfuMode()) return (Minutes(now_ms) << 8) | kLfuInitVal;
  return static_cast<uint32_t>(now_ms / 1000);
}

uint8_t AccessStats::Frequency(uint32_t word, int64_t now_ms) {
  uint32_t counter = word & 0xff;
  int decay = decay_minutes_.load(std::memory_order_relaxed);
  uint32_t periods = decay > 0 ? MinutesSince(word >> 8, now_ms) / decay : 0;
  return static_cast<uint8_t>(periods > counter ? 0 : counter - periods);
}

uint32_t AccessStats::OnAccess(uint32_t word, int64_t now_ms, double random01) {
  if (!LfuMode()) return static_cast<uint32_t>(now_ms / 1000);
  uint32_t counter = Frequency(word, now_ms);
  if (counter < 255) {
    double base = counter > kLfuInitVal ? counter - kLfuInitVal : 0;
    double p = 1.0 / (base * log_factor_.load(std::memory_order_relaxed) + 1);
    if (random01 < p) ++counter;
  }
  return (Minutes(now_ms) << 8) | counter;
}

uint32_t AccessStats::WithIdle(int64_t idle_s, int64_t now_ms) {
  int64_t at = now_ms / 1000 - idle_s;
  return static_cast<uint32_t>(at < 0 ? 0 : at);
}

uint32_t AccessStats::WithFrequency(uint8_t freq, int64_t now_ms) {
  return (Minutes(now_ms) << 8) | freq;
}

int64_t AccessStats::IdleSeconds(uint32_t word, int64_t now_ms) {
  int64_t idle = now_ms / 1000 - static_cast<int64_t>(word);
  return idle < 0 ? 0 : idle;
}

}  // namespace shoal::storage
