#include "aof/aof_manifest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace shoal::aof {
namespace {

std::string ReadTestFile(const std::string& name) {
  std::ifstream in(std::string(SHOAL_AOF_TESTDATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

AofFileInfo File(std::string name, int64_t seq, AofFileType type) {
  return {std::move(name), seq, type};
}

TEST(AofManifestTest, TheOraclesFirstManifest) {
  std::string text = ReadTestFile("oracle_basic/appendonly.aof.manifest");
  Result<AofManifest> m = ParseManifest(text);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_TRUE(m->base.has_value());
  EXPECT_EQ(*m->base, File("appendonly.aof.1.base.rdb", 1, AofFileType::kBase));
  ASSERT_EQ(m->incrs.size(), 1u);
  EXPECT_EQ(m->incrs[0], File("appendonly.aof.1.incr.aof", 1, AofFileType::kIncr));
  EXPECT_TRUE(m->history.empty());
  EXPECT_EQ(m->Serialize(), text);
  EXPECT_EQ(m->FilesToLoad(), (std::vector<AofFileInfo>{*m->base, m->incrs[0]}));
}

TEST(AofManifestTest, TheOraclesManifestWithHistoryRoundTrips) {
  std::string text = ReadTestFile("oracle_history/appendonly.aof.manifest");
  Result<AofManifest> m = ParseManifest(text);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->base->name, "appendonly.aof.6.base.aof");
  EXPECT_EQ(m->history.size(), 4u);
  EXPECT_EQ(m->base_seq, 6);
  EXPECT_EQ(m->incr_seq, 6);
  EXPECT_EQ(m->Serialize(), text);
}

// Two rewrites with aof-disable-auto-gc yes, the steps Redis takes (a new incr file when the
// rewrite starts; at its end a new base, and the rewritten incr files become history), give the
// oracle's manifest byte for byte.
TEST(AofManifestTest, RewriteStepsReproduceTheOraclesManifest) {
  Result<AofManifest> m = ParseManifest(
      "file appendonly.aof.4.base.aof seq 4 type b\nfile appendonly.aof.4.incr.aof seq 4 type i\n");
  ASSERT_TRUE(m.ok());
  AofManifest& am = *m;
  for (int i = 0; i < 2; ++i) {
    am.AddNewIncr("appendonly.aof");
    am.StartNewBase("appendonly.aof", /*rdb_preamble=*/false);
    am.MarkRewrittenIncrsAsHistory(/*keep_last=*/true);
  }
  EXPECT_EQ(am.Serialize(), ReadTestFile("oracle_history/appendonly.aof.manifest"));
  std::vector<AofFileInfo> history = am.TakeHistory();
  EXPECT_EQ(history.size(), 4u);
  EXPECT_TRUE(am.history.empty());
  EXPECT_EQ(am.Serialize(),
            "file appendonly.aof.6.base.aof seq 6 type b\n"
            "file appendonly.aof.6.incr.aof seq 6 type i\n");
}

TEST(AofManifestTest, QuotedNamesAsTheOracleWritesThem) {
  std::string text = ReadTestFile("quoted_name.manifest");
  Result<AofManifest> m = ParseManifest(text);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->base->name, "my \"odd\" aof.1.base.rdb");
  EXPECT_EQ(m->Serialize(), text);

  AofManifest odd;
  odd.incrs.push_back(File(std::string("a b\tc\x01\xff\".aof"), 3, AofFileType::kIncr));
  EXPECT_EQ(odd.Serialize(), "file \"a b\\tc\\x01\\xff\\\".aof\" seq 3 type i\n");
  Result<AofManifest> back = ParseManifest(odd.Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->incrs, odd.incrs);
  // A backslash is quoted when written, but a name holding one is refused as a path on read.
  odd.incrs[0].name = "a\\b";
  EXPECT_EQ(odd.Serialize(), "file \"a\\\\b\" seq 3 type i\n");
  EXPECT_EQ(ParseManifest(odd.Serialize()).status().message(),
            "File can't be a path, just a filename (manifest line 1)");
}

TEST(AofManifestTest, LenientWhereRedisIs) {
  Result<AofManifest> m = ParseManifest(
      "# a comment\n"
      "  TYPE b SEQ 2 FILE base.rdb  \r\n"
      "file 'single quoted.aof' seq 5 type i future yes\n");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m->base, File("base.rdb", 2, AofFileType::kBase));
  EXPECT_EQ(m->incrs[0], File("single quoted.aof", 5, AofFileType::kIncr));
}

TEST(AofManifestTest, ErrorsAsRedisNamesThem) {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::string line = "file a.aof seq 1 type i\n";
  const Case cases[] = {
      {"", "Found an empty AOF manifest"},
      {"file a.aof seq 1 type i", "The AOF manifest file contains too long line (manifest line 1)"},
      {"file " + std::string(1100, 'a') + " seq 1 type i\n",
       "The AOF manifest file contains too long line (manifest line 1)"},
      {line + "\n", "Invalid AOF manifest file format (manifest line 2)"},
      {"file a.aof seq 1\n", "Invalid AOF manifest file format (manifest line 1)"},
      {"file a.aof seq 1 type i x\n", "Invalid AOF manifest file format (manifest line 1)"},
      {"file \"a.aof seq 1 type i\n", "Invalid AOF manifest file format (manifest line 1)"},
      {"file \"a\"b seq 1 type i\n", "Invalid AOF manifest file format (manifest line 1)"},
      {"file a.aof seq 0 type i\n", "Invalid AOF manifest file format (manifest line 1)"},
      {"file a.aof seq 1 type \"\"\n", "Invalid AOF manifest file format (manifest line 1)"},
      {"file dir/a.aof seq 1 type i\n", "File can't be a path, just a filename (manifest line 1)"},
      {"file a.rdb seq 1 type b\nfile b.rdb seq 2 type b\n",
       "Found duplicate base file information (manifest line 2)"},
      {line + "file b.aof seq 1 type i\n",
       "Found a non-monotonic sequence number (manifest line 2)"},
      {"file a.aof seq 1 type x\n", "Unknown AOF file type (manifest line 1)"},
  };
  for (const Case& c : cases) {
    Result<AofManifest> m = ParseManifest(c.text);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.status().message(), c.error) << c.text;
  }
}

TEST(AofManifestTest, FileNames) {
  EXPECT_EQ(AofManifestFileName("appendonly.aof"), "appendonly.aof.manifest");
  EXPECT_EQ(AofBaseFileName("appendonly.aof", 7, true), "appendonly.aof.7.base.rdb");
  EXPECT_EQ(AofBaseFileName("appendonly.aof", 7, false), "appendonly.aof.7.base.aof");
  EXPECT_EQ(AofIncrFileName("appendonly.aof", 12), "appendonly.aof.12.incr.aof");
  EXPECT_EQ(AofTempIncrFileName("appendonly.aof"), "temp-appendonly.aof.incr");

  AofManifest m;  // A server starting empty: a base, then the first incr file.
  EXPECT_EQ(m.StartNewBase("appendonly.aof", true), "appendonly.aof.1.base.rdb");
  EXPECT_EQ(m.AddNewIncr("appendonly.aof"), "appendonly.aof.1.incr.aof");
  EXPECT_EQ(m.Serialize(), ReadTestFile("oracle_basic/appendonly.aof.manifest"));
}

TEST(AofManifestTest, WriteIsAtomicAndReadable) {
  std::string dir = std::filesystem::temp_directory_path() / "aof_manifest_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  Result<AofManifest> m = ParseManifest(ReadTestFile("oracle_history/appendonly.aof.manifest"));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(WriteManifest(dir, "appendonly.aof.manifest", *m).ok());
  (*m).AddNewIncr("appendonly.aof");
  ASSERT_TRUE(WriteManifest(dir, "appendonly.aof.manifest", *m).ok());  // Replaces the first.
  Result<AofManifest> back = LoadManifest(dir, "appendonly.aof.manifest");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, *m);
  EXPECT_FALSE(std::filesystem::exists(dir + "/temp-appendonly.aof.manifest"));
  EXPECT_FALSE(LoadManifest(dir, "missing.manifest").ok());
  EXPECT_FALSE(WriteManifest(dir + "/no/such/dir", "x.manifest", *m).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shoal::aof
