// YamlTree::from_json, the JSON fast path cluster mode's objects take, against the tree
// yaml-cpp builds for the same text: every type, tag, scalar and mark the same, or refused.
#include "conf/yaml_tree.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <sstream>

#include "conf/config_files.hpp"
#include "conf/document_split.hpp"
#include "conf/manifest_json.hpp"

namespace svcproxy::conf {
namespace {

const std::string kSourceDir = SVCPROXY_SOURCE_DIR;

std::string describe(const YAML::Mark& mark) {
  return std::to_string(mark.pos) + "@" + std::to_string(mark.line) + ":" +
         std::to_string(mark.column);
}

// Both trees node by node; `path` names the node in failure messages.
void check_same(const YamlNode& fast, const YamlNode& slow, const std::string& path) {
  INFO("at ", path);
  REQUIRE(static_cast<int>(fast.type()) == static_cast<int>(slow.type()));
  CHECK(fast.is_quoted() == slow.is_quoted());
  CHECK(fast.scalar() == slow.scalar());
  CHECK(describe(fast.mark()) == describe(slow.mark()));
  REQUIRE(fast.size() == slow.size());
  for (std::size_t i = 0; i < fast.size(); ++i) {
    if (fast.is_map()) {
      const auto [fast_key, fast_value] = fast.entry(i);
      const auto [slow_key, slow_value] = slow.entry(i);
      check_same(fast_key, slow_key, path + ".key(" + slow_key.scalar() + ")");
      check_same(fast_value, slow_value, path + "." + slow_key.scalar());
    } else {
      check_same(fast.item(i), slow.item(i), path + "[" + std::to_string(i) + "]");
    }
  }
}

void check_read_as_yaml_cpp_reads(const std::string& json_text) {
  INFO("JSON: ", json_text);
  std::istringstream stream(json_text);
  const YamlTree slow(stream);
  const auto fast = YamlTree::from_json(json_text);
  REQUIRE(fast != nullptr);
  REQUIRE(slow.documents().size() == 1);
  REQUIRE(fast->documents().size() == 1);
  check_same(fast->documents()[0], slow.documents()[0], "$");
}

TEST_CASE("JSON reads as yaml-cpp reads it: scalars, tags, escapes, marks") {
  check_read_as_yaml_cpp_reads(R"({"a":1,"b":"1","c":true,"d":false,"e":null,"f":"null"})");
  check_read_as_yaml_cpp_reads(R"({"n":[-1,0,1.5,2e10,1E+3,-0.25e-2],"s":"","o":{},"l":[]})");
  check_read_as_yaml_cpp_reads(R"({"esc":"q\" b\\ s\/ n\n t\t r\r f\f b\b u\u00e9\u4e2d"})");
  check_read_as_yaml_cpp_reads(
      "{\"utf8\":\"\xc3\xbc"
      "n\xc3\xaf"
      "code \xe4\xb8\xad\",\"k\":1}");
  check_read_as_yaml_cpp_reads(R"({"dup":1,"dup":2,"nested":[[1,[2,{"x":[]}]],{"y":{"z":"w"}}]})");
  check_read_as_yaml_cpp_reads(R"([{"a":1},"b",3])");
  check_read_as_yaml_cpp_reads(
      "\n\n  {\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Service\",\n"
      "  \"spec\": {\n    \"ports\": [\n      { \"port\" : 80 },\n"
      "      {\"port\":8080 , \"name\": \"x\"}\n    ]\n  }\n}\n  \n");
}

TEST_CASE("every example manifest, as cluster mode stores it, reads as yaml-cpp reads it") {
  int documents = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(kSourceDir + "/conf/examples")) {
    if (!entry.is_regular_file()) continue;
    const auto text = read_whole_file(entry.path());
    REQUIRE(text);
    for (const auto& document : split_documents(*text)) {
      std::istringstream stream{std::string(document.text)};
      const YamlTree yaml(stream);
      for (const auto& root : yaml.documents()) {
        if (!root.is_map()) continue;
        check_read_as_yaml_cpp_reads(boost::json::serialize(to_json(root)));
        ++documents;
      }
    }
  }
  CHECK(documents > 10);
}

TEST_CASE("JSON the fast path cannot promise to read as yaml-cpp does is left to yaml-cpp") {
  for (const std::string& text : std::vector<std::string>{
           "{\"a\":\t1}",                                // a tab
           "{\"a\":1}\r\n",                              // CR
           R"({"a":"\ud83d\ude00"})",                    // a surrogate pair
           R"({"a":"\u0000"})",                          // NUL
           "{\"a\":\"x\ny\"}",                           // a raw line break in a string
           R"({"a":1,})",                                // not JSON
           R"({a: 1})",                                  // YAML flow, not JSON
           "{\"a\":1} # note",                           // a comment
           "{\"a\":1}\n---\n{\"b\":2}",                  // two documents
           "\"just a string\"",                          // not a collection
           "kind: Service\n",                            // YAML
           "",                                           // nothing
           R"({"a":01})",                                // not a JSON number
           R"({"a":tru})",                               // not a word JSON has
           "{\"" + std::string(1100, 'k') + "\":1}",     // a key YAML does not allow
           std::string(65, '[') + std::string(65, ']'),  // deeper than the reader goes
       }) {
    INFO("text: ", text);
    CHECK(YamlTree::from_json(text) == nullptr);
  }
}

}  // namespace
}  // namespace svcproxy::conf
