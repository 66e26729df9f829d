#include "aof/fsync_policy.h"

#include "common/strings.h"

namespace shoal::aof {

bool ParseFsyncPolicy(std::string_view name, FsyncPolicy* out) {
  for (FsyncPolicy p : {FsyncPolicy::kAlways, FsyncPolicy::kEverySec, FsyncPolicy::kNo}) {
    if (EqualsIgnoreCase(name, FsyncPolicyName(p))) {
      *out = p;
      return true;
    }
  }
  return false;
}

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySec:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "everysec";
}

}  // namespace shoal::aof
