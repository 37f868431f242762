// The messages of etcd's v3 JSON gateway (grpc-gateway over HTTP/1.1), as values: request
// bodies to send and parsed answers. Pure: no sockets, any thread.
//
// The gateway's JSON is protobuf's JSON mapping, with its quirks handled here once:
// every int64 is a string ("revision":"12"), fields at their zero value are left out
// (no "succeeded" in a failed txn, no "type" in a PUT event, no "TTL" in a keepalive on a
// dead lease), keys and values are base64.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace svcproxy::cluster {

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
  std::int64_t lease = 0;

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

struct RangeResult {
  std::int64_t revision = 0;  // the store's revision when the range was read
  std::vector<KeyValue> kvs;
  bool more = false;  // a limit cut the range short
};

// One comparison of a transaction; etcd compares with EQUAL here, which is all a
// compare-and-swap needs.
struct Compare {
  enum class Target { Version, Create, Mod, Value };
  std::string key;
  Target target = Target::Version;
  std::int64_t number = 0;  // Version, Create, Mod
  std::string value;        // Value

  static Compare absent(std::string key) { return {std::move(key), Target::Version, 0, {}}; }
  static Compare modified_at(std::string key, std::int64_t revision) {
    return {std::move(key), Target::Mod, revision, {}};
  }
  static Compare value_is(std::string key, std::string value) {
    return {std::move(key), Target::Value, 0, std::move(value)};
  }
};

struct Operation {
  enum class Kind { Put, Delete, Get };
  Kind kind = Kind::Put;
  std::string key;
  std::string value;       // Put
  std::int64_t lease = 0;  // Put: attach to this lease

  static Operation put(std::string key, std::string value, std::int64_t lease = 0) {
    return {Kind::Put, std::move(key), std::move(value), lease};
  }
  static Operation remove(std::string key) { return {Kind::Delete, std::move(key), {}, 0}; }
  static Operation get(std::string key) { return {Kind::Get, std::move(key), {}, 0}; }
};

struct Txn {
  std::vector<Compare> compare;
  std::vector<Operation> success;
  std::vector<Operation> failure;
};

struct TxnResult {
  bool succeeded = false;
  std::int64_t revision = 0;
  std::vector<RangeResult> gets;  // the answers to the Get operations that ran, in order
};

struct WatchEvent {
  enum class Type { Put, Delete };
  Type type = Type::Put;
  KeyValue kv;  // for a Delete: the key and the deleting revision
};

// One message of a watch stream.
struct WatchMessage {
  std::int64_t revision = 0;  // header revision
  bool created = false;
  bool canceled = false;
  std::int64_t compact_revision = 0;  // set with canceled: the start was compacted away
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};

struct LeaseGrant {
  std::int64_t id = 0;
  std::int64_t ttl_seconds = 0;
};

// The first key after every key that starts with `prefix`: a prefix's range_end.
std::string prefix_end(std::string_view prefix);

std::string encode_range(std::string_view key, std::string_view range_end, std::int64_t limit = 0,
                         std::int64_t revision = 0, bool keys_only = false);
std::string encode_txn(const Txn& txn);
std::string encode_delete_range(std::string_view key, std::string_view range_end = {});
std::string encode_watch_create(std::string_view key, std::string_view range_end,
                                std::int64_t start_revision);
std::string encode_lease_grant(std::int64_t ttl_seconds);
std::string encode_lease_id(std::int64_t id);  // keepalive, revoke
std::string encode_compaction(std::int64_t revision);

// Each parser returns nullopt with `error` set for JSON that is not the expected shape,
// or for an error object from the gateway ({"error": ..., "code": ..., "message": ...}).
std::optional<RangeResult> parse_range(const boost::json::value& answer, std::string& error);
std::optional<TxnResult> parse_txn(const boost::json::value& answer, std::string& error);
std::optional<WatchMessage> parse_watch_message(const boost::json::value& message,
                                                std::string& error);
std::optional<LeaseGrant> parse_lease_grant(const boost::json::value& answer, std::string& error);
// A keepalive's TTL; 0 when the lease no longer exists (the gateway omits the field).
std::optional<std::int64_t> parse_lease_keepalive(const boost::json::value& answer,
                                                  std::string& error);
// The header revision of any answer; 0 when absent.
std::int64_t header_revision(const boost::json::value& answer);

// The gateway's error object as one line ("etcdserver: mvcc: required revision has been
// compacted (code 11)"); empty when `answer` is not one.
std::string gateway_error(const boost::json::value& answer);

}  // namespace svcproxy::cluster
