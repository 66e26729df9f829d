#include "storage/db.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <string>

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

// A saver that records what each key held when it was saved.
class RecordingSaver : public SnapshotSaver {
 public:
  void Save(Entry* e) override {
    std::string scratch;
    std::string key(e->key_view());
    EXPECT_EQ(saved.count(key), 0u) << "saved twice: " << key;
    saved[key] = std::string(e->value.GetString(&scratch));
  }
  std::map<std::string, std::string> saved;
};

// Runs a snapshot walk like persist's ShardSnapshot: a few buckets at a time, with `between`
// called between steps (the writes clients make while the snapshot runs).
void Walk(Db& db, RecordingSaver& saver, const std::function<void(int)>& between) {
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = db.ScanAll(cursor, [&](Entry* e) {
      if (!db.IsSaved(e)) {
        saver.Save(e);
        db.MarkSaved(e);
      }
    });
    between(step++);
  } while (cursor != 0);
}

TEST(DbTest, SnapshotSeesEveryKeyAsItWasAtTheStart) {
  Db db;
  const int64_t now = 1000;
  std::map<std::string, std::string> before;
  for (int i = 0; i < 5000; ++i) {
    std::string k = "k" + std::to_string(i);
    db.Insert(k, Value::String("v" + std::to_string(i)));
    before[k] = "v" + std::to_string(i);
  }
  for (int round = 0; round < 3; ++round) {  // Parity flips back and forth.
    RecordingSaver saver;
    db.BeginSnapshot(&saver);
    std::mt19937 rng(round);
    Walk(db, saver, [&](int step) {
      // Overwrite, delete and add keys while the walk runs; grow the table (rehashing).
      for (int j = 0; j < 20; ++j) {
        std::string k = "k" + std::to_string(rng() % 5000);
        if (Entry* e = db.Find(k, now)) {
          if (rng() % 3 == 0) {
            db.Erase(k, now);
          } else {
            db.Replace(e, Value::String("changed"), false);
          }
        } else {
          db.Insert(k, Value::String("new"));
        }
      }
      db.Insert("extra" + std::to_string(round) + "_" + std::to_string(step),
                Value::String("x"));
    });
    db.EndSnapshot();
    EXPECT_EQ(saver.saved, before) << "round " << round;
    // The next snapshot must see the state as it is now.
    before.clear();
    uint64_t cursor = 0;
    do {
      cursor = db.ScanAll(cursor, [&](Entry* e) {
        std::string scratch;
        before[std::string(e->key_view())] = std::string(e->value.GetString(&scratch));
      });
    } while (cursor != 0);
  }
}

TEST(DbTest, FlushDuringSnapshotSavesFirst) {
  Db db;
  for (int i = 0; i < 100; ++i) db.Insert("k" + std::to_string(i), Value::String("v"));
  RecordingSaver saver;
  db.BeginSnapshot(&saver);
  db.Clear();
  db.EndSnapshot();
  EXPECT_EQ(saver.saved.size(), 100u);
}

TEST(DbTest, KeyMarkSurvivesAndDoesNotChangeTheKey) {
  KeyString inline_key("short");
  KeyString heap_key(std::string(100, 'x'));
  inline_key.set_mark(true);
  heap_key.set_mark(true);
  EXPECT_EQ(inline_key.view(), "short");
  EXPECT_EQ(heap_key.view(), std::string(100, 'x'));
  inline_key.Reset("other");
  EXPECT_TRUE(inline_key.mark());
  EXPECT_EQ(inline_key.view(), "other");
  inline_key.set_mark(false);
  EXPECT_EQ(inline_key.size(), 5u);
}

}  // namespace
}  // namespace shoal::storage
