#include "conf/document_reader.hpp"

#include <yaml-cpp/exceptions.h>

#include <exception>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>

#include "conf/parsers.hpp"
#include "conf/yaml_tree.hpp"

namespace svcproxy::conf {
namespace {

void read_document(YamlReader& reader, const Field& document, LoadState& state);

void read_proxy_config(YamlReader& reader, const Field& document, LoadState& state) {
  if (state.proxy_config_at) {
    const SourceLocation& first = *state.proxy_config_at;
    reader.error(document, "only one ProxyConfig is allowed (the first is at " + first.file + ":" +
                               std::to_string(first.line) + ":" + std::to_string(first.column) +
                               ")");
    return;
  }
  state.proxy_config_at = reader.location(document);
  const std::size_t errors_before = reader.error_count();
  state.snapshot.proxy = parse_proxy_config(reader, document);
  state.proxy_config_valid = reader.error_count() == errors_before;
}

// kubectl's `kind: List` wraps documents in `items`; read each as its own document.
void read_list(YamlReader& reader, const Field& document, LoadState& state) {
  for (const Field& item : reader.items(document.child("items")))
    read_document(reader, item, state);
}

using Handler = std::function<void(YamlReader&, const Field&, LoadState&)>;

const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> table = {
      {"v1/Service",
       [](auto& r, auto& d, auto& s) { s.snapshot.services.push_back(parse_service(r, d)); }},
      {"v1/Pod", [](auto& r, auto& d, auto& s) { s.snapshot.pods.push_back(parse_pod(r, d)); }},
      {"apps/v1/Deployment",
       [](auto& r, auto& d, auto& s) { s.snapshot.deployments.push_back(parse_deployment(r, d)); }},
      {"v1/Secret",
       [](auto& r, auto& d, auto& s) {
         if (auto secret = parse_secret(r, d)) s.snapshot.secrets.push_back(std::move(*secret));
       }},
      // Namespaces need no object for svcproxy; a declared one is known (the API lists it).
      {"v1/Namespace",
       [](auto& r, auto& d, auto& s) {
         Metadata metadata = parse_metadata(r, d, NameRule::Dns1123Label);
         if (!metadata.name.empty()) s.snapshot.namespaces.push_back(std::move(metadata.name));
       }},
      {"svcproxy.io/v1/ProxyConfig", read_proxy_config},
      {"v1/List", read_list},
  };
  return table;
}

void read_document(YamlReader& reader, const Field& document, LoadState& state) {
  if (!document.present()) return;  // an empty document, e.g. after a trailing "---"
  if (!document.node.is_map()) {
    reader.warning(document, "skipping a document that is not a mapping");
    return;
  }
  const std::string api_version = document.child("apiVersion").node.scalar();
  const std::string kind = document.child("kind").node.scalar();
  auto handler = handlers().find(api_version + "/" + kind);
  if (handler == handlers().end()) {
    reader.warning(document, "skipping unknown kind " + (kind.empty() ? "(none)" : kind) +
                                 (api_version.empty() ? "" : " (apiVersion " + api_version + ")"));
    return;
  }
  const Field name = document.child("metadata").child("name");
  reader.set_object(conf::object_name(kind, name.node.is_scalar() ? name.node.scalar() : ""));
  handler->second(reader, document, state);
  reader.set_object("");
}

// A std::istream over text it does not own, pointed at one document after another:
// building a stream (locale and all) per document was 4% of loading 60,000 documents.
class TextStream {
 public:
  TextStream() : stream_(&buffer_) {}
  std::istream& over(std::string_view text) {
    buffer_.point_at(text);
    stream_.clear();
    return stream_;
  }

 private:
  struct Buffer : std::streambuf {
    void point_at(std::string_view text) {
      char* begin = const_cast<char*>(text.data());  // only ever read
      setg(begin, begin, begin + text.size());
    }
  };
  Buffer buffer_;
  std::istream stream_;
};

// One document's parse: the nodes, or yaml-cpp's syntax error (it reports by exception).
struct ParsedDocument {
  std::unique_ptr<YamlTree> tree;
  std::optional<YAML::Mark> syntax_error_mark;
  std::string error;
};

ParsedDocument parse_document(std::string_view text) {
  thread_local TextStream stream;  // one per thread: documents are read on every core
  ParsedDocument parsed;
  if ((parsed.tree = YamlTree::from_json(text))) return parsed;
  try {
    parsed.tree = std::make_unique<YamlTree>(stream.over(text), text.size());
  } catch (const YAML::Exception& e) {
    parsed.syntax_error_mark = e.mark;
    parsed.error = "YAML syntax error: " + e.msg;
  } catch (const std::exception& e) {
    parsed.error = std::string("cannot parse: ") + e.what();
  }
  return parsed;
}

}  // namespace

void read_document_text(const DocumentText& document, YamlReader& reader, LoadState& state) {
  const ParsedDocument parsed = parse_document(document.text);
  reader.set_line_offset(document.first_line);
  if (!parsed.error.empty()) {
    const SourceLocation where = parsed.syntax_error_mark
                                     ? reader.location(*parsed.syntax_error_mark)
                                     : SourceLocation{reader.file(), document.first_line + 1, 1};
    state.errors.push_back({where, "", parsed.error});
    return;
  }
  for (const YamlNode& node : parsed.tree->documents()) {
    try {
      read_document(reader, document_field(node), state);
    } catch (const std::exception& e) {  // a yaml-cpp corner we did not foresee
      reader.error(document_field(node), std::string("cannot read this document: ") + e.what());
    }
  }
}

}  // namespace svcproxy::conf
