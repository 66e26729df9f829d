// Test helpers: a canonical description of a value's contents (type, encoding, elements in an
// order that does not depend on hashtable layout), to compare values across a round trip.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "json/serialize.h"
#include "storage/hash_object.h"
#include "storage/json_object.h"
#include "storage/list_object.h"
#include "storage/set_object.h"
#include "storage/value.h"
#include "storage/zset_object.h"

namespace shoal::persist::testing {

inline std::string Describe(const storage::Value& v) {
  using storage::ValueType;
  std::string out = std::string(storage::TypeName(v.type())) + "/" +
                    std::string(v.EncodingName()) + ":";
  std::vector<std::string> items;
  bool sorted = false;
  switch (v.type()) {
    case ValueType::kString: {
      std::string scratch;
      items.emplace_back(v.GetString(&scratch));
      break;
    }
    case ValueType::kList: {
      const storage::Quicklist* ql = storage::ListOf(v);
      std::string scratch;
      for (auto pos = ql->Seek(0); pos.valid(); ql->Next(&pos)) {
        items.emplace_back(storage::Quicklist::Get(pos).View(&scratch));
      }
      break;
    }
    case ValueType::kSet:
      storage::SetForEach(v, [&](const storage::SetMember& m) {
        items.push_back(m.ToString());
        return true;
      });
      sorted = true;
      break;
    case ValueType::kZSet: {
      size_t n = storage::ZSetLength(v);
      if (n == 0) break;
      for (storage::ZSetCursor c(v, 0, false); c.valid(); c.Next()) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%.17g", c.score());
        items.push_back(std::string(c.member()) + "=" + buf);
      }
      break;
    }
    case ValueType::kHash: {
      std::string a, b;
      storage::Hash(const_cast<storage::Value*>(&v))
          .ForEach([&](const storage::HashItem& f, const storage::HashItem& val) {
            items.push_back(std::string(f.View(&a)) + "=" + std::string(val.View(&b)));
          });
      sorted = true;
      break;
    }
    case ValueType::kJson:
      items.push_back(json::ToJson(storage::JsonRoot(v)));
      break;
    case ValueType::kStream:
      break;
  }
  if (sorted) std::sort(items.begin(), items.end());
  for (const std::string& s : items) out += "[" + s + "]";
  return out;
}

}  // namespace shoal::persist::testing
