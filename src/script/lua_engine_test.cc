// The engine with a fake runner: conversions both ways, the sandbox, error formats.
#include "script/lua_engine.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "script/registry.h"
#include "script/sha1.h"

namespace shoal::script {
namespace {

// Answers each command with a canned raw reply, keyed by the command name; records the calls.
class FakeRunner : public CommandRunner {
 public:
  void Call(absl::Span<const std::string_view> argv, int resp, std::string* reply) override {
    std::string joined;
    for (std::string_view a : argv) joined += std::string(a) + " ";
    calls.push_back(joined);
    resps.push_back(resp);
    auto it = replies.find(std::string(argv[0]));
    reply->append(it == replies.end() ? "+OK\r\n" : it->second);
  }
  std::map<std::string, std::string> replies;
  std::vector<std::string> calls;
  std::vector<int> resps;
};

std::string Eval(std::string_view body, FakeRunner& runner, int caller_resp = 2,
                 std::vector<std::string_view> keys = {}, std::vector<std::string_view> args = {},
                 bool ro = false) {
  std::string out;
  protocol::ReplyBuilder rb(&out, caller_resp);
  EvalRequest req;
  req.body = body;
  req.keys = keys;
  req.args = args;
  req.ro_command = ro;
  LuaEngine::ThisThread().Eval(req, runner, rb);
  return out;
}

std::string Eval(std::string_view body, int caller_resp = 2) {
  FakeRunner runner;
  return Eval(body, runner, caller_resp);
}

std::string Suffix(std::string_view body, int line = 1) {
  return " script: " + Sha1Hex(body) + ", on @user_script:" + std::to_string(line) + ".";
}

TEST(LuaEngineTest, LuaToRespBasics) {
  EXPECT_EQ(Eval("return 1"), ":1\r\n");
  EXPECT_EQ(Eval("return 3.99"), ":3\r\n");
  EXPECT_EQ(Eval("return -3.99"), ":-3\r\n");
  EXPECT_EQ(Eval("return 1e30"), ":-9223372036854775808\r\n");
  EXPECT_EQ(Eval("return 'hi'"), "$2\r\nhi\r\n");
  EXPECT_EQ(Eval("return true"), ":1\r\n");
  EXPECT_EQ(Eval("return false"), "$-1\r\n");
  EXPECT_EQ(Eval("return false", 3), "_\r\n");
  EXPECT_EQ(Eval("return nil"), "$-1\r\n");
  EXPECT_EQ(Eval("return {1,2,nil,4}"), "*2\r\n:1\r\n:2\r\n");
  EXPECT_EQ(Eval("return {ok='fine'}"), "+fine\r\n");
  EXPECT_EQ(Eval("return {err='x'}"), "-x\r\n");
  EXPECT_EQ(Eval("return {ok=1}"), "*0\r\n");
  EXPECT_EQ(Eval("return {double=1.5}"), "$3\r\n1.5\r\n");
  EXPECT_EQ(Eval("return {double=1.5}", 3), ",1.5\r\n");
  EXPECT_EQ(Eval("return {map={a=1}}"), "*2\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Eval("return {map={a=1}}", 3), "%1\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Eval("return {set={a=true}}", 3), "~1\r\n$1\r\na\r\n");
  EXPECT_EQ(Eval("return {big_number='123'}", 3), "(123\r\n");
  EXPECT_EQ(Eval("return {verbatim_string={format='txt',string='hi'}}", 3), "=6\r\ntxt:hi\r\n");
  EXPECT_EQ(Eval("redis.setresp(3); return true"), ":1\r\n");
  EXPECT_EQ(Eval("redis.setresp(3); return false"), ":0\r\n");
  EXPECT_EQ(Eval("redis.setresp(3); return false", 3), "#f\r\n");
}

TEST(LuaEngineTest, RespToLua) {
  FakeRunner r;
  r.replies["int"] = ":42\r\n";
  r.replies["bulk"] = "$3\r\nabc\r\n";
  r.replies["nil"] = "$-1\r\n";
  r.replies["arr"] = "*3\r\n:1\r\n$1\r\nx\r\n*-1\r\n";
  r.replies["err"] = "-WRONGTYPE Operation against a key\r\n";
  r.replies["map"] = "%1\r\n$1\r\nk\r\n,2.5\r\n";
  r.replies["null3"] = "_\r\n";
  r.replies["bool"] = "#t\r\n";
  EXPECT_EQ(Eval("return redis.call('int') + 1", r), ":43\r\n");
  EXPECT_EQ(Eval("return redis.call('bulk')", r), "$3\r\nabc\r\n");
  EXPECT_EQ(Eval("return tostring(redis.call('nil'))", r), "$5\r\nfalse\r\n");
  EXPECT_EQ(Eval("local t = redis.call('arr') return {#t, type(t[3])}", r),
            "*2\r\n:3\r\n$7\r\nboolean\r\n");
  EXPECT_EQ(Eval("return redis.call('ok')", r), "+OK\r\n");
  EXPECT_EQ(Eval("return redis.pcall('err')", r), "-WRONGTYPE Operation against a key\r\n");
  std::string body = "return redis.call('err')";
  EXPECT_EQ(Eval(body, r), "-WRONGTYPE Operation against a key" + Suffix(body) + "\r\n");
  EXPECT_EQ(Eval("return redis.call('map').map.k.double * 2", r), ":5\r\n");
  EXPECT_EQ(Eval("return tostring(redis.call('null3'))", r), "$3\r\nnil\r\n");
  EXPECT_EQ(Eval("return tostring(redis.call('bool'))", r), "$4\r\ntrue\r\n");
  r.calls.clear();
  EXPECT_EQ(Eval("redis.call('set', 'k', 0.1, 7) return 1", r), ":1\r\n");
  EXPECT_EQ(r.calls.back(), "set k 0.10000000000000001 7 ");
  EXPECT_EQ(Eval("redis.setresp(3) redis.call('x') return 1", r), ":1\r\n");
  EXPECT_EQ(r.resps.back(), 3);
}

TEST(LuaEngineTest, KeysAndArgv) {
  FakeRunner r;
  EXPECT_EQ(Eval("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", r, 2, {"k"}, {"a", "b"}),
            "*4\r\n$1\r\nk\r\n$1\r\na\r\n:1\r\n:2\r\n");
}

TEST(LuaEngineTest, ErrorFormats) {
  std::string body = "error('boom')";
  EXPECT_EQ(Eval(body), "-ERR user_script:1: boom" + Suffix(body) + "\r\n");
  body = "return redis.call()";
  EXPECT_EQ(Eval(body), "-ERR Please specify at least one argument for this redis lib call" +
                            Suffix(body) + "\r\n");
  EXPECT_EQ(Eval("return redis.error_reply('My error')"), "-My error\r\n");
  EXPECT_EQ(Eval("return redis.error_reply('oops')"), "-ERR oops\r\n");
  EXPECT_EQ(Eval("return +"),
            "-ERR Error compiling script (new function): user_script:1: unexpected symbol near "
            "'+'\r\n");
}

TEST(LuaEngineTest, Sandbox) {
  std::string body = "x = 1";
  EXPECT_EQ(Eval(body),
            "-ERR user_script:1: Attempt to modify a readonly table" + Suffix(body) + "\r\n");
  body = "return y";
  EXPECT_EQ(Eval(body),
            "-ERR user_script:1: Script attempted to access nonexistent global variable 'y'" +
                Suffix(body) + "\r\n");
  body = "redis.call = nil";
  EXPECT_EQ(Eval(body),
            "-ERR user_script:1: Attempt to modify a readonly table" + Suffix(body) + "\r\n");
  body = "rawset(_G, 'x', 1)";
  EXPECT_EQ(Eval(body), "-ERR Attempt to modify a readonly table" + Suffix(body) + "\r\n");
  EXPECT_EQ(Eval("return type(print)").substr(0, 5), "-ERR ");
  EXPECT_EQ(Eval("local n = 0 for k in pairs(_G) do n = n + 1 end return n > 30"), ":1\r\n");
  EXPECT_EQ(Eval("return cjson.encode({1,2,{a=1}})"), "$13\r\n[1,2,{\"a\":1}]\r\n");
  EXPECT_EQ(Eval("return struct.pack('>i2', 258)"), "$2\r\n\x01\x02\r\n");
  EXPECT_EQ(Eval("return {struct.unpack('>i2', 'ab')}"), "*2\r\n:24930\r\n:3\r\n");
  EXPECT_EQ(Eval("return bit.tohex(65535)"), "$8\r\n0000ffff\r\n");
  EXPECT_EQ(Eval("return ('abc'):upper()"), "$3\r\nABC\r\n");
}

TEST(LuaEngineTest, ErrorTablesAreReadRaw) {
  // Redis 7.0.15 crashes on these (its error extraction runs metamethods unprotected).
  std::string body = "error(setmetatable({err='meta'}, {__index = function() error('x') end}))";
  EXPECT_EQ(Eval(body), "-meta" + Suffix(body) + "\r\n");
  EXPECT_EQ(Eval("error({x = 1})").substr(0, 1), "-");
}

TEST(LuaEngineTest, RandomIsRedisLrand48) {
  // math.randomseed(0) puts the generator where Redis's srand48(0) does.
  EXPECT_EQ(Eval("math.randomseed(0) return tostring(math.random())"),
            "$16\r\n0.17082803611217\r\n");
}

TEST(LuaEngineTest, EvalShaAfterFlush) {
  FakeRunner r;
  EXPECT_EQ(Eval("return 'cached'", r), "$6\r\ncached\r\n");
  std::string out;
  protocol::ReplyBuilder rb(&out, 2);
  EvalRequest req;
  req.by_sha = true;
  std::string sha = Sha1Hex("return 'cached'");
  req.sha = sha;
  LuaEngine::ThisThread().Eval(req, r, rb);
  EXPECT_EQ(out, "$6\r\ncached\r\n");
  ScriptRegistry::Get().Flush();
  out.clear();
  LuaEngine::ThisThread().Eval(req, r, rb);
  EXPECT_EQ(out, "-NOSCRIPT No matching script. Please use EVAL.\r\n");
}

}  // namespace
}  // namespace shoal::script
