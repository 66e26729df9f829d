#include "storage/db.h"

#include <gtest/gtest.h>

namespace shoal::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

TEST(DbTest, InsertFindErase) {
  Db db;
  EXPECT_EQ(db.Find("a", kNow), nullptr);
  db.Insert("a", Value::String("1"));
  ASSERT_NE(db.Find("a", kNow), nullptr);
  EXPECT_TRUE(db.Erase("a", kNow));
  EXPECT_FALSE(db.Erase("a", kNow));
  EXPECT_EQ(db.size(), 0u);
}

TEST(DbTest, ExpiredKeysAreNeverReturned) {
  Db db;
  Entry* e = db.Insert("k", Value::String("v"));
  db.SetExpire(e, kNow + 100);
  EXPECT_NE(db.Find("k", kNow + 99), nullptr);
  EXPECT_EQ(db.Find("k", kNow + 100), nullptr);
  EXPECT_EQ(db.size(), 0u);
  EXPECT_EQ(db.expires_size(), 0u);
  EXPECT_EQ(db.stats().expired_keys, 1u);
}

TEST(DbTest, ReplaceDropsTtlUnlessKept) {
  Db db;
  Entry* e = db.Insert("k", Value::String("v"));
  db.SetExpire(e, kNow + 1000);
  db.Replace(e, Value::String("w"), /*keep_ttl=*/true);
  EXPECT_EQ(db.GetExpire(e), kNow + 1000);
  db.Replace(e, Value::String("x"), /*keep_ttl=*/false);
  EXPECT_EQ(db.GetExpire(e), -1);
  EXPECT_EQ(db.expires_size(), 0u);
}

TEST(DbTest, ActiveExpiryReclaimsUnreadKeys) {
  Db db;
  for (int i = 0; i < 1000; ++i) {
    Entry* e = db.Insert("k" + std::to_string(i), Value::String("v"));
    db.SetExpire(e, kNow + (i < 900 ? 1 : 1'000'000));
  }
  for (int round = 0; round < 1000 && db.size() > 100; ++round) db.ExpireSample(kNow + 10, 20);
  EXPECT_EQ(db.size(), 100u);
  EXPECT_EQ(db.expires_size(), 100u);
}

TEST(DbTest, ScanVisitsAllKeys) {
  Db db;
  for (int i = 0; i < 1000; ++i) db.Insert("k" + std::to_string(i), Value::Int(i));
  size_t seen = 0;
  uint64_t cursor = 0;
  do {
    cursor = db.Scan(cursor, kNow, [&](Entry*) { ++seen; });
  } while (cursor != 0);
  EXPECT_EQ(seen, 1000u);
}

}  // namespace
}  // namespace shoal::storage
