// appendfsync: when the AOF writer makes written bytes durable (redis.conf's three values).
#pragma once

#include <string_view>

namespace shoal::aof {

enum class FsyncPolicy {
  kAlways,    // fdatasync after every batch, before its tickets are acknowledged.
  kEverySec,  // fdatasync in the background at most once a second; acknowledged once written.
  kNo,        // never fsync: the kernel flushes when it likes (a file switch and Close still do).
};

// "always", "everysec", "no", case-insensitively as CONFIG SET takes them.
bool ParseFsyncPolicy(std::string_view name, FsyncPolicy* out);
std::string_view FsyncPolicyName(FsyncPolicy policy);

}  // namespace shoal::aof
