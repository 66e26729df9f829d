#!/usr/bin/python3
"""Writes src/server/command_metadata.cc from a running redis-server 7.0.15.

Usage (from the repository root):
  redis-server --port 6399 --save '' --daemonize yes
  /usr/bin/python3 tools/gen_command_metadata.py [--port 6399] [--out FILE.cc]
  redis-cli -p 6399 shutdown nosave

The oracle is asked COMMAND INFO and COMMAND DOCS for the commands listed in FAMILIES below; a
container's subcommands come from its own reply. The output is deterministic: families and
commands keep the order of FAMILIES, and subcommands are sorted by name (Redis lists them in
its hash table's order, which changes with every server start). The text is then passed through
clang-format (the repository's .clang-format) when it is installed.

Needs only the Python standard library: it speaks RESP2 over a plain socket.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys

EXPECTED_VERSION = "7.0.15"

# (comment, commands). Containers pull in all of their subcommands.
FAMILIES = [
    ("Connection", "ping echo hello auth quit reset select client"),
    ("Server", "command info dbsize flushdb flushall config time lastsave shutdown save bgsave "
                "bgrewriteaof"),
    ("Strings", "get set setnx setex psetex getset getdel getex mget mset msetnx append strlen "
                "getrange setrange substr incr decr incrby decrby incrbyfloat lcs"),
    ("Keys", "del unlink exists type keys scan randomkey rename renamenx copy move touch object "
             "expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime persist dump restore"),
    ("Lists", "lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos "
              "lmove rpoplpush lmpop blpop brpop blmove brpoplpush blmpop"),
    ("Hashes", "hset hsetnx hget hmget hmset hdel hexists hlen hstrlen hkeys hvals hgetall hincrby "
               "hincrbyfloat hrandfield hscan"),
    ("Sets", "sadd srem sismember smismember scard smembers srandmember spop smove sinter "
             "sintercard sunion sdiff sinterstore sunionstore sdiffstore sscan"),
    ("Sorted sets", "zadd zincrby zrem zcard zcount zlexcount zscore zmscore zrank zrevrank zrange "
                    "zrangestore zrevrange zrangebyscore zrevrangebyscore zrangebylex "
                    "zrevrangebylex zremrangebyrank zremrangebyscore zremrangebylex zpopmin zpopmax "
                    "zmpop zrandmember zunion zinter zdiff zunionstore zinterstore zdiffstore "
                    "zintercard zscan bzpopmin bzpopmax bzmpop"),
    ("Bitmaps", "setbit getbit bitcount bitpos bitop bitfield bitfield_ro"),
    ("HyperLogLog", "pfadd pfcount pfmerge"),
    ("Transactions", "multi exec discard watch unwatch"),
    ("Scripting", "eval evalsha eval_ro evalsha_ro script"),
]


class Status(str):
    """A RESP simple string, kept apart from bulk strings."""


class Resp:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))
        reply = self._read()
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _read(self):
        line = self.file.readline()[:-2].decode()
        kind, rest = line[:1], line[1:]
        if kind == "+":
            return Status(rest)
        if kind == "-":
            return RuntimeError(rest)
        if kind == ":":
            return int(rest)
        if kind == "$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2].decode()
        if kind == "*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise ValueError("unexpected RESP line: %r" % line)


def pairs(flat):
    """A flat [k1, v1, k2, v2, ...] reply as a dict, refusing duplicate keys."""
    out = {}
    for i in range(0, len(flat), 2):
        assert flat[i] not in out, flat[i]
        out[flat[i]] = flat[i + 1]
    return out


def cstr(s):
    """A C++ string literal for `s` (ASCII only)."""
    assert all(32 <= ord(ch) < 127 for ch in s), s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def key_spec(spec):
    spec = pairs(spec)
    unknown = set(spec) - {"notes", "flags", "begin_search", "find_keys"}
    assert not unknown, unknown
    fields = [".flags = " + cstr(" ".join(spec["flags"]))]
    begin = pairs(spec["begin_search"])
    begin_spec = pairs(begin["spec"])
    if begin["type"] == "index":
        fields.append(".begin_index = %d" % begin_spec["index"])
    elif begin["type"] == "keyword":
        fields.append(".begin_keyword = " + cstr(begin_spec["keyword"]))
        fields.append(".keyword_startfrom = %d" % begin_spec["startfrom"])
    else:
        raise ValueError("begin_search type %r is not representable" % begin["type"])
    find = pairs(spec["find_keys"])
    find_spec = pairs(find["spec"])
    if find["type"] == "range":
        fields += [".lastkey = %d" % find_spec["lastkey"], ".keystep = %d" % find_spec["keystep"],
                   ".limit = %d" % find_spec["limit"]]
    elif find["type"] == "keynum":
        fields += [".keynum = true", ".keystep = %d" % find_spec["keystep"],
                   ".keynumidx = %d" % find_spec["keynumidx"],
                   ".firstkey = %d" % find_spec["firstkey"]]
    else:
        raise ValueError("find_keys type %r is not representable" % find["type"])
    if "notes" in spec:
        fields.append(".notes = " + cstr(spec["notes"]))
    return "{" + ", ".join(fields) + "}"


def entry(info, docs):
    """One aggregate initializer from a COMMAND INFO entry and its COMMAND DOCS map."""
    name, arity, flags, first, last, step, acl, tips, specs = info[:9]
    unknown = set(docs) - {"summary", "since", "group", "complexity", "doc_flags",
                           "deprecated_since", "replaced_by", "history", "arguments",
                           "subcommands"}
    assert not unknown, (name, unknown)
    fields = [".name = " + cstr(name), ".arity = %d" % arity]
    if flags:
        fields.append(".flags = " + cstr(" ".join(flags)))
    if (first, last, step) != (0, 0, 0):
        fields += [".first_key = %d" % first, ".last_key = %d" % last, ".key_step = %d" % step]
    fields.append(".acl_categories = " + cstr(" ".join(acl)))
    if tips:
        fields.append(".tips = " + cstr(" ".join(tips)))
    if specs:
        fields.append(".key_specs = {" + ", ".join(key_spec(s) for s in specs) + "}")
    for field in ("summary", "since", "group", "complexity"):
        fields.append(".%s = %s" % (field, cstr(docs[field])))
    if "doc_flags" in docs:
        fields.append(".doc_flags = " + cstr(" ".join(docs["doc_flags"])))
    for field in ("deprecated_since", "replaced_by"):
        if field in docs:
            fields.append(".%s = %s" % (field, cstr(docs[field])))
    if "history" in docs:
        fields.append(".history = {" + ", ".join(
            "{%s, %s}" % (cstr(v), cstr(c)) for v, c in docs["history"]) + "}")
    return "{" + ", ".join(fields) + "},"


def family_entries(conn, names):
    infos = conn.call("COMMAND", "INFO", *names)
    docs = {name: pairs(doc) for name, doc in pairs(conn.call("COMMAND", "DOCS", *names)).items()}
    lines = []
    for name, info in zip(names, infos):
        assert info is not None and info[0] == name, name
        lines.append(entry(info, docs[name]))
        subinfos = sorted(info[9], key=lambda sub: sub[0])
        subdocs = {sub: pairs(doc) for sub, doc in pairs(docs[name].get("subcommands", [])).items()}
        assert sorted(subdocs) == [sub[0] for sub in subinfos], name
        lines += [entry(sub, subdocs[sub[0]]) for sub in subinfos]
    return lines


HEADER = """\
// GENERATED by tools/gen_command_metadata.py from redis-server {version}'s COMMAND INFO and
// COMMAND DOCS replies. Do not edit by hand: change the script's command list and rerun it.
//
// A container ("client") is followed by all of its subcommands ("client|list"), sorted by name.
// Redis itself lists subcommands in hash-table order, which differs from one server start to the
// next, so a reply that nests subcommands can only match Redis's up to their order.
#include "server/command_metadata.h"

#include <absl/container/flat_hash_map.h>

#include <string_view>
#include <vector>

namespace shoal::server {

const std::vector<CommandMeta>& AllCommandMeta() {
  // Leaked on purpose: no destructor runs at exit while other threads may still read it.
  static const auto* const kAll = new std::vector<CommandMeta>{
"""

FOOTER = """\
  };
  return *kAll;
}

const CommandMeta* FindCommandMeta(std::string_view name) {
  // Keys view the table's own name strings, which live as long as the program.
  static const auto* const kByName = [] {
    auto* map = new absl::flat_hash_map<std::string_view, const CommandMeta*>();
    for (const CommandMeta& meta : AllCommandMeta()) map->emplace(meta.name, &meta);
    for (const CommandMeta& meta : ModuleCommandMeta()) map->emplace(meta.name, &meta);
    return map;
  }();
  auto it = kByName->find(name);
  return it == kByName->end() ? nullptr : it->second;
}

}  // namespace shoal::server
"""


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=6399)
    parser.add_argument("--out", default=os.path.join(root, "src/server/command_metadata.cc"))
    args = parser.parse_args()

    conn = Resp(args.port)
    server = conn.call("INFO", "server")
    version = next(line.split(":", 1)[1] for line in server.splitlines()
                   if line.startswith("redis_version:"))
    if version != EXPECTED_VERSION:
        sys.exit("expected redis-server %s, found %s" % (EXPECTED_VERSION, version))

    out = [HEADER.replace("{version}", version)]
    for i, (title, names) in enumerate(FAMILIES):
        if i:
            out.append("\n")
        out.append("      // %s.\n" % title)
        out += ["      %s\n" % line for line in family_entries(conn, names.split())]
    out.append(FOOTER)
    text = "".join(out)

    clang_format = shutil.which("clang-format")
    if clang_format:
        text = subprocess.run([clang_format, "--assume-filename=" + args.out], input=text,
                              capture_output=True, text=True, check=True, cwd=root).stdout
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
