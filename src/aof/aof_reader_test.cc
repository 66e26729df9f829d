#include "aof/aof_reader.h"

#include <absl/strings/str_format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace shoal::aof {
namespace {

using Argv = std::vector<std::string>;
using Kind = AofReadResult::Kind;

std::string ReadTestFile(const std::string& name) {
  std::ifstream in(std::string(SHOAL_AOF_TESTDATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Resp(const Argv& argv) {
  std::string out = absl::StrFormat("*%d\r\n", argv.size());
  for (const std::string& a : argv) absl::StrAppendFormat(&out, "$%d\r\n%s\r\n", a.size(), a);
  return out;
}

struct Read {
  Result<AofReadResult> result;
  std::vector<Argv> commands;
};

Read ReadAll(std::string_view data, bool load_truncated) {
  std::vector<Argv> commands;
  Result<AofReadResult> r =
      ReadAofCommands(data, load_truncated, [&](const std::vector<std::string_view>& argv) {
        commands.emplace_back(argv.begin(), argv.end());
        return Status::Ok();
      });
  return {std::move(r), std::move(commands)};
}

// A second, line-oriented reading of a well-formed file, independent of the reader: the offsets
// where a cut leaves only whole commands and no open MULTI, and the ranges of annotation lines.
struct Layout {
  std::set<size_t> clean_cuts{0};
  std::vector<std::pair<size_t, size_t>> annotations;  // [start, end) including "\r\n"
};

Layout LayoutOf(const std::string& data) {
  Layout layout;
  size_t pos = 0;
  bool in_multi = false;
  auto line = [&]() {
    size_t eol = data.find("\r\n", pos);
    std::string l = data.substr(pos, eol - pos);
    pos = eol + 2;
    return l;
  };
  while (pos < data.size()) {
    if (data[pos] == '#') {
      size_t start = pos;
      line();
      layout.annotations.emplace_back(start, pos);
    } else {
      int argc = std::stoi(line().substr(1));
      std::string name;
      for (int i = 0; i < argc; ++i) {
        size_t len = std::stoul(line().substr(1));
        if (i == 0) name = data.substr(pos, len);
        pos += len + 2;
      }
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      if (name == "multi") in_multi = true;
      if (name == "exec") in_multi = false;
    }
    if (!in_multi) layout.clean_cuts.insert(pos);
  }
  return layout;
}

// The start of the annotation line `cut` falls inside, or npos.
size_t AnnotationAround(const Layout& layout, size_t cut) {
  for (auto [start, end] : layout.annotations) {
    if (cut > start && cut < end) return start;
  }
  return std::string::npos;
}

// Every cut of `data`: with load_truncated the reader keeps exactly the whole commands outside an
// unfinished MULTI; without it, a cut that is not clean is an error (a cut annotation excepted:
// Redis loads those, and the reader reports the line to drop).
void CheckEveryCut(const std::string& data) {
  Layout layout = LayoutOf(data);
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    std::string_view prefix(data.data(), cut);
    size_t expect_valid = *std::prev(layout.clean_cuts.upper_bound(cut));
    bool clean = layout.clean_cuts.count(cut) > 0;

    Read lenient = ReadAll(prefix, true);
    ASSERT_TRUE(lenient.result.ok()) << "cut " << cut << ": " << lenient.result.status().message();
    EXPECT_EQ(lenient.result->valid_bytes, expect_valid) << "cut " << cut;
    EXPECT_EQ(lenient.result->kind, clean ? Kind::kComplete : Kind::kTruncated) << "cut " << cut;

    Read strict = ReadAll(prefix, false);
    if (clean) {
      ASSERT_TRUE(strict.result.ok()) << "cut " << cut;
      EXPECT_EQ(strict.result->kind, Kind::kComplete);
    } else if (size_t a = AnnotationAround(layout, cut);
               a != std::string::npos && layout.clean_cuts.count(a)) {
      // A cut annotation outside MULTI: loaded, and the cut line reported for dropping.
      ASSERT_TRUE(strict.result.ok()) << "cut " << cut;
      EXPECT_EQ(strict.result->kind, Kind::kTruncated) << "cut " << cut;
      EXPECT_EQ(strict.result->valid_bytes, expect_valid) << "cut " << cut;
    } else {
      ASSERT_FALSE(strict.result.ok()) << "cut " << cut;
      EXPECT_EQ(strict.result.status().message(),
                "Unexpected end of file reading the append only file (whole commands end at "
                "offset " +
                    absl::StrFormat("%d)", expect_valid))
          << "cut " << cut;
    }
  }
}

TEST(AofReaderTest, ReadsTheOraclesIncrFile) {
  std::string data = ReadTestFile("oracle_basic/appendonly.aof.1.incr.aof");
  Read r = ReadAll(data, false);
  ASSERT_TRUE(r.result.ok()) << r.result.status().message();
  EXPECT_EQ(r.result->kind, Kind::kComplete);
  EXPECT_EQ(r.result->valid_bytes, data.size());
  EXPECT_EQ(r.result->commands, r.commands.size());
  ASSERT_GE(r.commands.size(), 14u);
  EXPECT_EQ(r.commands[0], (Argv{"SELECT", "0"}));
  EXPECT_EQ(r.commands[1], (Argv{"set", "a", "1"}));
  EXPECT_EQ(r.commands[2], (Argv{"set", "key with space", "bin\r\nval"}));
  EXPECT_EQ(r.commands[4], (Argv{"MULTI"}));
  EXPECT_EQ(r.commands[8], (Argv{"EXEC"}));
  bool saw_big = false;
  for (const Argv& c : r.commands) {
    if (c.size() == 3 && c[1] == "big") saw_big = c[2] == std::string(3000, 'x');
  }
  EXPECT_TRUE(saw_big);
  EXPECT_EQ(r.commands.back(), (Argv{"EXEC"}));
}

TEST(AofReaderTest, ReadsTheOraclesAofFormatBase) {
  std::string data = ReadTestFile("oracle_history/appendonly.aof.6.base.aof");
  Read r = ReadAll(data, false);
  ASSERT_TRUE(r.result.ok()) << r.result.status().message();
  EXPECT_EQ(r.result->kind, Kind::kComplete);
  EXPECT_FALSE(r.commands.empty());
}

TEST(AofReaderTest, EveryCutOfTheOraclesFile) {
  CheckEveryCut(ReadTestFile("oracle_basic/appendonly.aof.1.incr.aof"));
}

TEST(AofReaderTest, EveryCutOfAFileWithTransactionsAndAnnotations) {
  std::string data = "#TS:1700000000\r\n" + Resp({"SELECT", "0"}) + Resp({"SET", "a", "1"}) +
                     Resp({"multi"}) + Resp({"SET", "b", ""}) + Resp({"INCR", "n"}) +
                     Resp({"exec"}) + "#TS:1700000001\r\n" + Resp({"DEL", "a"}) + Resp({"MULTI"}) +
                     "#TS:1700000002\r\n" + Resp({"SET", "c", "x\r\ny"}) + Resp({"EXEC"}) +
                     Resp({"SET", "d", "1234567890"});
  CheckEveryCut(data);
}

TEST(AofReaderTest, AnUnfinishedMultiIsDroppedWhole) {
  std::string head = Resp({"SET", "a", "1"});
  std::string data = head + Resp({"MULTI"}) + Resp({"SET", "k", "v"}) + Resp({"DEL", "a"});
  // A clean end inside MULTI (Redis: "Revert incomplete MULTI/EXEC transaction").
  Read r = ReadAll(data, true);
  ASSERT_TRUE(r.result.ok());
  EXPECT_EQ(r.result->kind, Kind::kTruncated);
  EXPECT_TRUE(r.result->reverted_multi);
  EXPECT_EQ(r.result->valid_bytes, head.size());
  // The queued commands were handed over (the caller queues them and never sees EXEC).
  EXPECT_EQ(r.commands.size(), 4u);
  // A cut inside a queued command: the transaction goes too.
  r = ReadAll(std::string_view(data).substr(0, data.size() - 3), true);
  ASSERT_TRUE(r.result.ok());
  EXPECT_EQ(r.result->valid_bytes, head.size());
  EXPECT_TRUE(r.result->reverted_multi);
  r = ReadAll(data, false);
  EXPECT_FALSE(r.result.ok());
}

TEST(AofReaderTest, GarbageIsAnErrorNamingItsOffset) {
  struct Case {
    std::string data;
    size_t offset;
  };
  std::string ok = Resp({"SET", "a", "1"});  // 29 bytes
  const Case cases[] = {
      {"X", 0},
      {ok + "hello\r\n", ok.size()},
      {"*0\r\n", 1},
      {"*-1\r\n", 1},
      {"*\r\n", 1},
      {"*2\r\n$3\r\nfooXY", 11},
      {"*2\r\n$3\r\nfoo\rX", 12},
      {"*2\r\n+3\r\nfoo\r\n", 4},
      {"*1\r\n$x\r\n", 5},
      {"*1x\r\n", 2},
      {"*1\r\r\n", 3},
      {"*1\r\n$99999999999999999999\r\n", 14},
      {ok + "*1\r\n$4\r\nEXEC\r\n*1\r\n$2\r\nab\r\n" + "\n", ok.size() + 26},
  };
  for (const Case& c : cases) {
    Read r = ReadAll(c.data, true);
    ASSERT_FALSE(r.result.ok()) << c.data;
    EXPECT_EQ(r.result.status().message(),
              absl::StrFormat("Bad file format reading the append only file (offset %d)", c.offset))
        << c.data;
  }
}

TEST(AofReaderTest, RdbPreambleIsHandedBack) {
  std::string rdb = ReadTestFile("oracle_basic/appendonly.aof.1.base.rdb");
  EXPECT_TRUE(StartsWithRdbPreamble(rdb));
  int calls = 0;
  Result<AofReadResult> r = ReadAofCommands(rdb, false, [&](const auto&) {
    ++calls;
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, Kind::kRdbPreamble);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(StartsWithRdbPreamble("REDI"));
  EXPECT_FALSE(StartsWithRdbPreamble(Resp({"PING"})));
}

TEST(AofReaderTest, EmptyDataIsComplete) {
  Read r = ReadAll("", false);
  ASSERT_TRUE(r.result.ok());
  EXPECT_EQ(r.result->kind, Kind::kComplete);
  EXPECT_EQ(r.result->valid_bytes, 0u);
}

TEST(AofReaderTest, CallbackErrorStopsTheRead) {
  std::string data = Resp({"SET", "a", "1"}) + Resp({"NOPE"}) + Resp({"SET", "b", "2"});
  int calls = 0;
  Result<AofReadResult> r = ReadAofCommands(data, false, [&](const auto& argv) {
    ++calls;
    if (argv[0] == "NOPE") return Status::Error("ERR unknown command 'NOPE'");
    return Status::Ok();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "ERR unknown command 'NOPE'");
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace shoal::aof
