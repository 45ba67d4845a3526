#pragma once

#include <cstddef>
#include <iterator>

namespace asp {

/// The iterator of a single-pass range that holds its own position (a file being read, a
/// wrapped source): `*it` is `owner.current()`, `++it` is `owner.advance()`, and the iterator
/// is at `std::default_sentinel` when `owner.at_end()`. Every copy refers to the one position,
/// as an input iterator may. An owner that keeps those three private befriends this class.
template <class Owner, class Value>
class pull_iterator {
 public:
  using value_type = Value;
  using difference_type = std::ptrdiff_t;

  pull_iterator() = default;
  explicit pull_iterator(Owner* owner) noexcept : m_owner(owner) {}

  const Value& operator*() const noexcept { return m_owner->current(); }
  const Value* operator->() const noexcept { return &m_owner->current(); }
  pull_iterator& operator++() {
    m_owner->advance();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const pull_iterator& it, std::default_sentinel_t) noexcept {
    return it.done();
  }

 private:
  // A member, so that an owner's friendship reaches it (it does not reach a friend function).
  bool done() const noexcept { return m_owner->at_end(); }

  Owner* m_owner = nullptr;
};

}  // namespace asp
