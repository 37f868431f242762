// The v3 JSON gateway's quirks, as etcd 3.4.23 sends them (answers copied from a real one).
#include "cluster/etcd_messages.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

namespace svcproxy::cluster {
namespace {

namespace json = boost::json;

json::value parse(std::string_view text) {
  return json::parse(text);
}

TEST_CASE("int64s arrive as strings, and absent fields mean zero") {
  std::string error;
  const auto range = parse_range(
      parse(R"({"header":{"cluster_id":"14841639068965178418","revision":"2","raft_term":"2"},
               "kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1",
                       "value":"YmFy"}],"count":"1"})"),
      error);
  REQUIRE(range);
  CHECK(range->revision == 2);
  REQUIRE(range->kvs.size() == 1);
  CHECK(range->kvs[0].key == "foo");
  CHECK(range->kvs[0].value == "bar");
  CHECK(range->kvs[0].mod_revision == 2);
  CHECK(range->kvs[0].lease == 0);
  CHECK_FALSE(range->more);
  // No key at all: no "kvs" field, not an empty array.
  const auto empty = parse_range(parse(R"({"header":{"revision":"7"}})"), error);
  REQUIRE(empty);
  CHECK(empty->kvs.empty());
  CHECK(empty->revision == 7);
}

TEST_CASE("a failed txn leaves out succeeded and answers the failure branch's gets") {
  std::string error;
  const auto failed =
      parse_txn(parse(R"({"header":{"revision":"2"},"responses":[{"response_range":{"header":
               {"revision":"2"},"kvs":[{"key":"Zm9v","mod_revision":"2","value":"YmFy"}],
               "count":"1"}}]})"),
                error);
  REQUIRE(failed);
  CHECK_FALSE(failed->succeeded);
  REQUIRE(failed->gets.size() == 1);
  CHECK(failed->gets[0].kvs[0].value == "bar");
  const auto succeeded =
      parse_txn(parse(R"({"header":{"revision":"3"},"succeeded":true,"responses":[{"response_put":
               {"header":{"revision":"3"}}}]})"),
                error);
  REQUIRE(succeeded);
  CHECK(succeeded->succeeded);
  CHECK(succeeded->gets.empty());
  CHECK(succeeded->revision == 3);
}

TEST_CASE("a PUT event has no type; a DELETE event has no value") {
  std::string error;
  const auto put = parse_watch_message(
      parse(R"({"result":{"header":{"revision":"2"},"events":[{"kv":{"key":"Zm9v",
               "create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}]}})"),
      error);
  REQUIRE(put);
  REQUIRE(put->events.size() == 1);
  CHECK(put->events[0].type == WatchEvent::Type::Put);
  CHECK(put->events[0].kv.value == "bar");
  const auto deleted = parse_watch_message(
      parse(R"({"result":{"header":{"revision":"3"},"events":[{"type":"DELETE","kv":
               {"key":"Zm9v","mod_revision":"3"}}]}})"),
      error);
  REQUIRE(deleted);
  CHECK(deleted->events[0].type == WatchEvent::Type::Delete);
  CHECK(deleted->events[0].kv.mod_revision == 3);
  CHECK(deleted->events[0].kv.value.empty());
}

TEST_CASE("a watch created, and one cancelled for compaction on the same open stream") {
  std::string error;
  const auto created =
      parse_watch_message(parse(R"({"result":{"header":{"revision":"3"},"created":true}})"), error);
  REQUIRE(created);
  CHECK(created->created);
  CHECK(created->events.empty());
  const auto compacted =
      parse_watch_message(parse(R"({"result":{"header":{"raft_term":"2"},"canceled":true,
               "compact_revision":"3"}})"),
                          error);
  REQUIRE(compacted);
  CHECK(compacted->canceled);
  CHECK(compacted->compact_revision == 3);
}

TEST_CASE("a keepalive on a dead lease answers 200 with no TTL") {
  std::string error;
  const auto dead =
      parse_lease_keepalive(parse(R"({"result":{"header":{"revision":"2"},"ID":"123"}})"), error);
  REQUIRE(dead);
  CHECK(*dead == 0);
  const auto alive = parse_lease_keepalive(
      parse(R"({"result":{"header":{"revision":"2"},"ID":"123","TTL":"9"}})"), error);
  REQUIRE(alive);
  CHECK(*alive == 9);
  const auto grant =
      parse_lease_grant(parse(R"({"header":{},"ID":"7587899309154100744","TTL":"5"})"), error);
  REQUIRE(grant);
  CHECK(grant->id == 7587899309154100744);
  CHECK(grant->ttl_seconds == 5);
}

TEST_CASE("the gateway's error objects become one line, unary or streamed") {
  std::string error;
  CHECK_FALSE(parse_range(
      parse(R"({"error":"etcdserver: mvcc: required revision has been compacted","code":11,
               "message":"etcdserver: mvcc: required revision has been compacted"})"),
      error));
  CHECK(error == "etcdserver: mvcc: required revision has been compacted (code 11)");
  CHECK_FALSE(parse_watch_message(
      parse(R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader",
               "http_status":"Service Unavailable"}})"),
      error));
  CHECK(error.find("no leader") != std::string::npos);
  CHECK(gateway_error(parse(R"({"header":{"revision":"1"}})")).empty());
}

TEST_CASE("requests encode keys in base64 and int64s as strings") {
  CHECK(prefix_end("/registry/") == "/registry0");
  CHECK(prefix_end("a\xff") == "b");
  const json::value range = parse(encode_range("/r/", prefix_end("/r/"), 100, 42, true));
  CHECK(range.at("key").as_string() == "L3Iv");
  CHECK(range.at("limit").as_string() == "100");
  CHECK(range.at("revision").as_string() == "42");
  CHECK(range.at("keys_only").as_bool());
  Txn txn;
  txn.compare.push_back(Compare::absent("k"));
  txn.compare.push_back(Compare::modified_at("m", 9));
  txn.success.push_back(Operation::put("k", "v", 77));
  txn.failure.push_back(Operation::get("k"));
  const json::value encoded = parse(encode_txn(txn));
  const auto& compare = encoded.at("compare").as_array();
  CHECK(compare[0].at("target").as_string() == "VERSION");
  CHECK(compare[0].at("version").as_string() == "0");
  CHECK(compare[1].at("target").as_string() == "MOD");
  CHECK(compare[1].at("mod_revision").as_string() == "9");
  const auto& put = encoded.at("success").as_array()[0].at("request_put");
  CHECK(put.at("value").as_string() == "dg==");
  CHECK(put.at("lease").as_string() == "77");
  CHECK(encoded.at("failure").as_array()[0].as_object().contains("request_range"));
}

}  // namespace
}  // namespace svcproxy::cluster
