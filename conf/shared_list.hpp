// A list of immutable objects that snapshots share: copying one copies pointers, not
// objects. A reload of 10,000 Services and 50,000 Pods that changes one Service hands the
// new Snapshot the objects the document cache already holds, instead of copying 60,000 of
// them (and freeing the old ones); "same object" also answers "same value" for free.
//
// Reads look like a std::vector<T> of const T. A change goes through mutate(), which gives
// that slot an object of its own first, so no other holder ever sees it change.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

namespace svcproxy::conf {

template <typename T>
class SharedList {
 public:
  using Ptr = std::shared_ptr<const T>;
  using value_type = T;
  using size_type = std::size_t;

  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    explicit const_iterator(typename std::vector<Ptr>::const_iterator at) : at_(at) {}

    reference operator*() const { return **at_; }
    pointer operator->() const { return at_->get(); }
    reference operator[](difference_type n) const { return *at_[n]; }
    const_iterator& operator++() { return ++at_, *this; }
    const_iterator operator++(int) { return const_iterator(at_++); }
    const_iterator& operator--() { return --at_, *this; }
    const_iterator operator--(int) { return const_iterator(at_--); }
    const_iterator& operator+=(difference_type n) { return at_ += n, *this; }
    const_iterator& operator-=(difference_type n) { return at_ -= n, *this; }
    friend const_iterator operator+(const_iterator i, difference_type n) { return i += n; }
    friend const_iterator operator+(difference_type n, const_iterator i) { return i += n; }
    friend const_iterator operator-(const_iterator i, difference_type n) { return i -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return a.at_ - b.at_;
    }
    friend bool operator==(const const_iterator&, const const_iterator&) = default;
    friend auto operator<=>(const const_iterator&, const const_iterator&) = default;

    // The slot itself, for erase().
    typename std::vector<Ptr>::const_iterator base() const { return at_; }

   private:
    typename std::vector<Ptr>::const_iterator at_;
  };
  using iterator = const_iterator;

  SharedList() = default;
  SharedList(std::initializer_list<T> objects) {
    items_.reserve(objects.size());
    for (const T& object : objects)
      push_back(object);
  }
  explicit SharedList(std::vector<T> objects) {
    items_.reserve(objects.size());
    for (T& object : objects)
      push_back(std::move(object));
  }

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const T& operator[](std::size_t i) const { return *items_[i]; }
  const T& front() const { return *items_.front(); }
  const T& back() const { return *items_.back(); }
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }

  // The object at `i` as shared: holding it keeps it alive, and unchanged.
  const Ptr& shared(std::size_t i) const { return items_[i]; }
  // Whether slot `i` of each list holds the very same object (so also an equal one).
  static bool same_object(const SharedList& a, std::size_t i, const SharedList& b, std::size_t j) {
    return a.items_[i] == b.items_[j];
  }

  void reserve(std::size_t n) { items_.reserve(n); }
  void resize(std::size_t n) { items_.resize(n); }  // new slots are empty: set() them
  void clear() { items_.clear(); }
  void push_back(T object) { items_.push_back(std::make_shared<const T>(std::move(object))); }
  void push_back(Ptr object) { items_.push_back(std::move(object)); }
  void set(std::size_t i, Ptr object) { items_[i] = std::move(object); }
  const_iterator erase(const_iterator at) { return const_iterator(items_.erase(at.base())); }
  void append(const SharedList& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  }

  // The object at `i`, to change: always a copy of its own, so snapshots and the document
  // cache that share the previous one never see the change.
  T& mutate(std::size_t i) {
    auto copy = std::make_shared<T>(*items_[i]);
    T& object = *copy;
    items_[i] = std::move(copy);
    return object;
  }

  friend bool operator==(const SharedList& a, const SharedList& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_object(a, i, b, i) && !(a[i] == b[i])) return false;
    return true;
  }

 private:
  std::vector<Ptr> items_;
};

}  // namespace svcproxy::conf
