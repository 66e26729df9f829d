// PipelineRun::StitchInto: replies from several shards and from the home shard come back in the
// client's order, and split commands' parts merge into the reply Redis would give.
#include <gtest/gtest.h>

#include "server/dispatcher.h"

namespace shoal::server {
namespace {

// Appends a reply to a batch or to the local replies.
void Add(std::string* text, std::vector<size_t>* ends, std::string_view reply) {
  text->append(reply);
  ends->push_back(text->size());
}

TEST(PipelineRunTest, StitchesInClientOrder) {
  PipelineRun run;
  run.batches.push_back(std::make_unique<RemoteBatch>());
  RemoteBatch& b = *run.batches[0];
  Add(&b.replies, &b.reply_ends, "+OK\r\n");
  Add(&b.replies, &b.reply_ends, "$1\r\na\r\n");
  Add(&run.local_replies, &run.local_ends, ":1\r\n");
  run.order = {0, PipelineRun::kLocal, 0};
  std::string out;
  run.StitchInto(&out);
  EXPECT_EQ(out, "+OK\r\n:1\r\n$1\r\na\r\n");
}

TEST(PipelineRunTest, MergesSplitCommands) {
  PipelineRun run;
  run.batches.push_back(std::make_unique<RemoteBatch>());
  RemoteBatch& b = *run.batches[0];
  // MGET k1 k2 k3 with k1, k3 remote and k2 local.
  Add(&b.replies, &b.reply_ends, "*2\r\n$2\r\nv1\r\n$-1\r\n");
  Add(&run.local_replies, &run.local_ends, "*1\r\n$3\r\nv22\r\n");
  run.merges.push_back({SplitMerge::kArrayByKey, {0, PipelineRun::kLocal}, {0, 1, 0}});
  // DEL a b (one key each side).
  Add(&b.replies, &b.reply_ends, ":1\r\n");
  Add(&run.local_replies, &run.local_ends, ":0\r\n");
  run.merges.push_back({SplitMerge::kSumIntegers, {0, PipelineRun::kLocal}, {}});
  // MSET: both parts OK.
  Add(&b.replies, &b.reply_ends, "+OK\r\n");
  Add(&run.local_replies, &run.local_ends, "+OK\r\n");
  run.merges.push_back({SplitMerge::kAllOk, {PipelineRun::kLocal, 0}, {}});
  run.order = {PipelineRun::kFirstMerge, PipelineRun::kFirstMerge - 1,
               PipelineRun::kFirstMerge - 2};
  std::string out;
  run.StitchInto(&out);
  EXPECT_EQ(out, "*3\r\n$2\r\nv1\r\n$3\r\nv22\r\n$-1\r\n:1\r\n+OK\r\n");
}

TEST(PipelineRunTest, Resp3NullsAndPartErrors) {
  PipelineRun run;
  run.batches.push_back(std::make_unique<RemoteBatch>());
  RemoteBatch& b = *run.batches[0];
  Add(&b.replies, &b.reply_ends, "*1\r\n_\r\n");
  Add(&run.local_replies, &run.local_ends, "*1\r\n$0\r\n\r\n");
  run.merges.push_back({SplitMerge::kArrayByKey, {0, PipelineRun::kLocal}, {1, 0}});
  Add(&b.replies, &b.reply_ends, "-OOM command not allowed\r\n");
  Add(&run.local_replies, &run.local_ends, "+OK\r\n");
  run.merges.push_back({SplitMerge::kAllOk, {0, PipelineRun::kLocal}, {}});
  run.order = {PipelineRun::kFirstMerge, PipelineRun::kFirstMerge - 1};
  std::string out;
  run.StitchInto(&out);
  EXPECT_EQ(out, "*2\r\n$0\r\n\r\n_\r\n-OOM command not allowed\r\n");
}

}  // namespace
}  // namespace shoal::server
