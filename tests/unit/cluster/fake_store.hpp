// An in-memory KvStore with etcd's semantics for what svcproxy uses: ranges (with limit and
// `more`), transactions with Version/Create/Mod/Value compares, revisions. Every call yields
// to the io_context first, so coroutines running against it interleave as processes do.
// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in its users.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <string>

#include "cluster/etcd_client.hpp"

namespace svcproxy::cluster::testing {

namespace asio = boost::asio;
using asio::awaitable;

class FakeStore : public KvStore {
 public:
  awaitable<Result<RangeResult>> range(std::string key, std::string range_end, bool,
                                       std::int64_t limit, std::int64_t) override {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    ++reads;
    RangeResult result = read(key, range_end);
    if (limit > 0 && result.kvs.size() > static_cast<std::size_t>(limit)) {
      result.kvs.resize(static_cast<std::size_t>(limit));
      result.more = true;
    }
    co_return Result<RangeResult>{std::move(result), {}};
  }

  awaitable<Result<TxnResult>> txn(Txn txn) override {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    ++transactions;
    TxnResult result;
    result.succeeded = true;
    for (const auto& compare : txn.compare) {
      const auto found = kvs.find(compare.key);
      const KeyValue none;
      const KeyValue& kv = found == kvs.end() ? none : found->second;
      switch (compare.target) {
        case Compare::Target::Version:
          result.succeeded &= kv.version == compare.number;
          break;
        case Compare::Target::Create:
          result.succeeded &= kv.create_revision == compare.number;
          break;
        case Compare::Target::Mod:
          result.succeeded &= kv.mod_revision == compare.number;
          break;
        case Compare::Target::Value:
          result.succeeded &= found != kvs.end() && kv.value == compare.value;
          break;
      }
    }
    if (result.succeeded) ++revision;
    for (const auto& op : result.succeeded ? txn.success : txn.failure) {
      if (op.kind == Operation::Kind::Get) result.gets.push_back(read(op.key, ""));
      if (op.kind == Operation::Kind::Delete) kvs.erase(op.key);
      if (op.kind == Operation::Kind::Put) {
        KeyValue& kv = kvs[op.key];
        if (kv.version == 0) kv.create_revision = revision;
        kv.key = op.key;
        kv.value = op.value;
        kv.mod_revision = revision;
        ++kv.version;
      }
    }
    result.revision = revision;
    co_return Result<TxnResult>{result, {}};
  }

  RangeResult read(const std::string& key, const std::string& range_end) const {
    RangeResult result;
    result.revision = revision;
    if (range_end.empty()) {
      if (auto found = kvs.find(key); found != kvs.end()) result.kvs.push_back(found->second);
      return result;
    }
    for (auto it = kvs.lower_bound(key); it != kvs.end() && it->first < range_end; ++it)
      result.kvs.push_back(it->second);
    return result;
  }

  std::map<std::string, std::string> under(const std::string& prefix) const {
    std::map<std::string, std::string> found;
    for (const auto& [key, kv] : kvs)
      if (key.starts_with(prefix)) found[key] = kv.value;
    return found;
  }

  std::map<std::string, KeyValue> kvs;
  std::int64_t revision = 1;
  int reads = 0;
  int transactions = 0;
};

}  // namespace svcproxy::cluster::testing
