#include "conf/stream_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "conf/document_reader.hpp"
#include "conf/document_split.hpp"
#include "conf/parallel.hpp"
#include "conf/yaml_reader.hpp"

namespace svcproxy::conf {
namespace {

template <typename T>
void append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

template <typename T>
void append(std::vector<T>& to, std::vector<T>&& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// What one document adds when read on its own, away from the load state: any thread can
// do it, and the yaml-cpp nodes are freed by the thread that made them. A ProxyConfig
// cannot be read alone (only one is allowed, so it depends on what came before): such a
// document is left to be read in order.
struct DocumentResult {
  bool has_proxy_config = false;
  DocumentCache::Contribution contribution;
  std::optional<DocumentCache::Contribution> to_cache;  // a copy, when there is a cache
};

void read_alone(const std::string& file, const DocumentText& document, bool keep_copy,
                DocumentResult& result) {
  LoadState alone;
  {
    YamlReader reader(file, alone.errors, alone.warnings);
    read_document_text(document, reader, alone);
  }
  if (alone.proxy_config_at) {
    result.has_proxy_config = true;
    return;
  }
  result.contribution = {std::move(alone.snapshot.services),
                         std::move(alone.snapshot.pods),
                         std::move(alone.snapshot.deployments),
                         std::move(alone.snapshot.secrets),
                         std::move(alone.errors),
                         std::move(alone.warnings),
                         std::move(alone.snapshot.namespaces)};
  if (keep_copy) result.to_cache = result.contribution;
}

// Below this many documents, threads cost more than they save.
constexpr std::size_t kParallelDocuments = 256;
// Documents per piece when contributions are added to the snapshot on several threads.
constexpr std::size_t kPieceDocuments = 128;

// One document and the stream it is in.
struct StreamDocument {
  std::size_t stream = 0;
  DocumentText text;
};

// The documents of every stream, each either found in the cache or read alone.
struct StreamResults {
  std::vector<StreamDocument> documents;                   // of all streams, in order
  std::vector<const DocumentCache::Contribution*> cached;  // per document; null: read
  std::vector<std::size_t> read_index;                     // per document: its DocumentResult
  std::vector<DocumentResult> read;

  bool needs_order(std::size_t i) const {
    return !cached[i] && read[read_index[i]].has_proxy_config;
  }
  const DocumentCache::Contribution& contribution(std::size_t i) const {
    return cached[i] ? *cached[i] : read[read_index[i]].contribution;
  }
};

// Where the objects of documents [begin, end) go in the snapshot's vectors, and the
// diagnostics they add.
struct Piece {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t services = 0;
  std::size_t pods = 0;
  std::size_t deployments = 0;
  std::size_t secrets = 0;
  Diagnostics errors;
  Diagnostics warnings;
};

// Copies (from the cache) or moves (what was read) `from` into the slots at `at`.
template <typename T>
void place(std::vector<T>& into, std::size_t& at, const std::vector<T>& from) {
  for (const T& object : from)
    into[at++] = object;
}

template <typename T>
void place(std::vector<T>& into, std::size_t& at, std::vector<T>&& from) {
  for (T& object : from)
    into[at++] = std::move(object);
}

// Services and Pods are shared, not copied: the cache and the snapshot hold the same objects.
template <typename T>
void place(SharedList<T>& into, std::size_t& at, const SharedList<T>& from) {
  for (std::size_t i = 0; i < from.size(); ++i)
    into.set(at++, from.shared(i));
}

template <typename From>
void place_document(From&& from, Snapshot& snapshot, Piece& piece) {
  place(snapshot.services, piece.services, std::forward<From>(from).services);
  place(snapshot.pods, piece.pods, std::forward<From>(from).pods);
  place(snapshot.deployments, piece.deployments, std::forward<From>(from).deployments);
  place(snapshot.secrets, piece.secrets, std::forward<From>(from).secrets);
  append(piece.errors, std::forward<From>(from).errors);
  append(piece.warnings, std::forward<From>(from).warnings);
}

// Documents [begin, end), none of which needs reading in order, added to the snapshot: the
// vectors grow once, and pieces of documents are copied or moved into their own slots on
// as many threads as there are cores (Services and Pods are shared, not copied).
void add_run(std::size_t begin, std::size_t end, StreamResults& results, LoadState& state) {
  Snapshot& snapshot = state.snapshot;
  std::vector<Piece> pieces;
  Piece next;  // the slots after the last piece so far
  next.services = snapshot.services.size();
  next.pods = snapshot.pods.size();
  next.deployments = snapshot.deployments.size();
  next.secrets = snapshot.secrets.size();
  for (std::size_t i = begin; i < end; i += kPieceDocuments) {
    Piece piece;
    piece.begin = i;
    piece.end = std::min(end, i + kPieceDocuments);
    piece.services = next.services;
    piece.pods = next.pods;
    piece.deployments = next.deployments;
    piece.secrets = next.secrets;
    for (std::size_t d = piece.begin; d < piece.end; ++d) {
      const auto& from = results.contribution(d);
      next.services += from.services.size();
      next.pods += from.pods.size();
      next.deployments += from.deployments.size();
      next.secrets += from.secrets.size();
    }
    pieces.push_back(std::move(piece));
  }
  snapshot.services.resize(next.services);
  snapshot.pods.resize(next.pods);
  snapshot.deployments.resize(next.deployments);
  snapshot.secrets.resize(next.secrets);
  for_each_index(pieces.size(), kParallelDocuments / kPieceDocuments, [&](std::size_t n) {
    Piece& piece = pieces[n];
    for (std::size_t d = piece.begin; d < piece.end; ++d) {
      if (const auto* cached = results.cached[d])
        place_document(*cached, snapshot, piece);
      else
        place_document(std::move(results.read[results.read_index[d]].contribution), snapshot,
                       piece);
    }
  });
  for (Piece& piece : pieces) {
    append(state.errors, std::move(piece.errors));
    append(state.warnings, std::move(piece.warnings));
  }
  // Few and small: in document order, on this thread.
  for (std::size_t d = begin; d < end; ++d) {
    const auto& names = results.contribution(d).namespaces;
    snapshot.namespaces.insert(snapshot.namespaces.end(), names.begin(), names.end());
  }
}

}  // namespace

// Every document not in the cache is read alone, on as many threads as there are cores,
// and the contributions are added in document order, with a ProxyConfig read in its place.
// All streams at once: cluster mode's 60,000 one-document streams share the threads and
// the placement instead of paying for both 60,000 times.
void read_streams(const std::vector<StreamSource>& streams, LoadState& state) {
  StreamResults results;
  for (std::size_t s = 0; s < streams.size(); ++s) {
    state.files.push_back(*streams[s].file);
    for (const DocumentText& document : split_documents(streams[s].text))
      results.documents.push_back({s, document});
  }
  const auto& documents = results.documents;
  const auto file_of = [&](std::size_t i) -> const std::string& {
    return *streams[documents[i].stream].file;
  };
  results.cached.resize(documents.size());
  results.read_index.resize(documents.size());
  std::vector<std::size_t> to_read;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const DocumentText& text = documents[i].text;
    if (state.cache) results.cached[i] = state.cache->find(file_of(i), text.first_line, text.text);
    if (!results.cached[i]) {
      results.read_index[i] = to_read.size();
      to_read.push_back(i);
    }
  }
  results.read.resize(to_read.size());
  const bool keep_copy = state.cache != nullptr;
  for_each_index(to_read.size(), kParallelDocuments, [&](std::size_t n) {
    read_alone(file_of(to_read[n]), documents[to_read[n]].text, keep_copy, results.read[n]);
  });

  for (std::size_t i = 0; i < documents.size();) {
    if (results.needs_order(i)) {
      YamlReader reader(file_of(i), state.errors, state.warnings);
      read_document_text(documents[i].text, reader, state);
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < documents.size() && !results.needs_order(end))
      ++end;
    add_run(i, end, results, state);
    i = end;
  }
  for (std::size_t n = 0; n < to_read.size(); ++n) {
    if (!results.read[n].to_cache) continue;
    const DocumentText& document = documents[to_read[n]].text;
    state.cache->store(file_of(to_read[n]), document.first_line, document.text,
                       std::move(*results.read[n].to_cache));
  }
}

void read_stream(const std::string& text, const std::string& file, LoadState& state) {
  read_streams({{&file, text}}, state);
}

}  // namespace svcproxy::conf
