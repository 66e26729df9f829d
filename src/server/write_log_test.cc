#include "server/write_log.h"

#include <gtest/gtest.h>

namespace shoal::server {
namespace {

std::string Resp(std::initializer_list<std::string_view> argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (std::string_view a : argv) {
    out += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  }
  return out;
}

class WriteLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteLog::set_enabled(true);
    WriteLog::ThreadBuffer().Clear();
  }
  void TearDown() override {
    WriteLog::set_enabled(false);
    WriteLog::ThreadBuffer().Clear();
  }
};

TEST_F(WriteLogTest, SelectsOnlyWhenTheDatabaseChanges) {
  WriteLog::Command(0, {"SET", "a", "1"});
  WriteLog::Command(0, {"SET", "b", "2"});
  WriteLog::Command(3, {"DEL", "c"});
  EXPECT_EQ(WriteLog::ThreadBuffer().bytes, Resp({"SELECT", "0"}) + Resp({"SET", "a", "1"}) +
                                                Resp({"SET", "b", "2"}) + Resp({"SELECT", "3"}) +
                                                Resp({"DEL", "c"}));
}

TEST_F(WriteLogTest, NothingIsLoggedWhenDisabled) {
  WriteLog::set_enabled(false);
  WriteLog::Command(0, {"SET", "a", "1"});
  EXPECT_TRUE(WriteLog::ThreadBuffer().empty());
}

TEST_F(WriteLogTest, CapturedWorkIsCommittedWholeInMultiExec) {
  WriteLog::Command(0, {"SET", "before", "1"});
  LogBuffer tx;
  {
    ScopedCapture capture(&tx);
    WriteLog::Command(1, {"INCR", "x"});
    // A script inside the transaction: its own capture goes into the outer one, unwrapped
    // (MULTI cannot nest).
    LogBuffer script;
    {
      ScopedCapture inner(&script);
      WriteLog::Command(1, {"SET", "y", "2"});
    }
    WriteLog::Commit(script);
    EXPECT_EQ(CurrentCapture(), &tx);
  }
  EXPECT_EQ(CurrentCapture(), nullptr);
  WriteLog::Commit(tx);
  WriteLog::Command(1, {"SET", "after", "3"});
  EXPECT_EQ(WriteLog::ThreadBuffer().bytes,
            Resp({"SELECT", "0"}) + Resp({"SET", "before", "1"}) + Resp({"MULTI"}) +
                Resp({"SELECT", "1"}) + Resp({"INCR", "x"}) + Resp({"SELECT", "1"}) +
                Resp({"SET", "y", "2"}) + Resp({"EXEC"}) + Resp({"SET", "after", "3"}));
}

TEST_F(WriteLogTest, EmptyCapturesLogNothing) {
  LogBuffer tx;
  WriteLog::Commit(tx);
  EXPECT_TRUE(WriteLog::ThreadBuffer().empty());
}

}  // namespace
}  // namespace shoal::server
