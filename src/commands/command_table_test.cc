// The command table (what dispatch uses) must agree with the recorded Redis 7.0 metadata (what
// COMMAND INFO reports): same arity, key positions and read/write nature for every command.
#include <gtest/gtest.h>

#include "commands/register.h"
#include "server/command_metadata.h"

namespace shoal::cmd {
namespace {

const server::CommandTable& Table() {
  static server::CommandTable* table = [] {
    auto* t = new server::CommandTable();
    RegisterAllCommands(*t);
    return t;
  }();
  return *table;
}

void CheckSpec(const server::CommandSpec& spec) {
  SCOPED_TRACE(spec.name);
  const server::CommandMeta* meta = server::FindCommandMeta(spec.name);
  ASSERT_NE(meta, nullptr) << "no metadata recorded for " << spec.name;
  EXPECT_EQ(spec.arity, meta->arity);
  EXPECT_EQ(spec.first_key, meta->first_key);
  EXPECT_EQ(spec.last_key, meta->last_key);
  EXPECT_EQ(spec.key_step, meta->key_step);
  bool meta_write = std::string_view(meta->flags).find("write") != std::string_view::npos;
  bool meta_read = std::string_view(meta->flags).find("readonly") != std::string_view::npos;
  EXPECT_EQ((spec.flags & server::kWrite) != 0, meta_write);
  EXPECT_EQ((spec.flags & server::kReadOnly) != 0, meta_read);
  for (const auto& sub : spec.subcommands) CheckSpec(sub);
}

TEST(CommandTableTest, AgreesWithRedisMetadata) {
  for (const auto& spec : Table().all()) CheckSpec(*spec);
}

TEST(CommandTableTest, LookupIsCaseInsensitive) {
  ASSERT_NE(Table().Find("GeT"), nullptr);
  EXPECT_EQ(Table().Find("GeT")->name, "get");
  EXPECT_EQ(Table().Find("nosuch"), nullptr);
  const server::CommandSpec* client = Table().Find("client");
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server::CommandTable::FindSub(*client, "SETNAME"), nullptr);
  EXPECT_EQ(server::CommandTable::FindSub(*client, "SETNAME")->name, "client|setname");
}

TEST(CommandTableTest, KeyedCommandsThatMaySpanShardsCanBeSplitOrCoordinated) {
  for (const auto& spec : Table().all()) {
    // kConnectionOnly commands reach their keys' owners themselves (blocking pops).
    if (!spec->has_keys() || (spec->flags & server::kConnectionOnly)) continue;
    bool multi = spec->get_keys != nullptr || spec->last_key < 0 || spec->last_key > spec->first_key;
    if (multi) {
      EXPECT_TRUE(spec->coordinator != nullptr || spec->split != server::SplitMerge::kNone)
          << spec->name;
    }
  }
}

}  // namespace
}  // namespace shoal::cmd
