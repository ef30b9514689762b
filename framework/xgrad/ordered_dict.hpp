// OrderedDict<V>: (name, value) items in insertion order with unique names,
// libtorch's torch::OrderedDict<std::string, V> (what named_parameters()
// returns there and here):
//
//   for (const auto& p : model.named_parameters())
//     std::cout << p.key() << " " << p.value().sizes() ...;   // or p.first / p.second
//   Tensor<float> w = model.named_parameters()["fc1.weight"];
//
// Each item is also a std::pair<std::string, V>, so .first / .second and
// structured bindings (auto& [name, t]) work too.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/errors.hpp"

namespace xgrad {

template <class V>
class OrderedDict {
 public:
  struct Item : std::pair<std::string, V> {
    using std::pair<std::string, V>::pair;
    const std::string& key() const { return this->first; }
    V& value() { return this->second; }
    const V& value() const { return this->second; }
    const std::pair<std::string, V>& pair() const { return *this; }
  };
  using iterator = typename std::vector<Item>::iterator;
  using const_iterator = typename std::vector<Item>::const_iterator;

  OrderedDict() = default;

  // Appends (key, value); ValueError when the key is already there.
  V& insert(std::string key, V value) {
    XGRAD_CHECK(!contains(key), ValueError, "OrderedDict: key \"", key, "\" is already present");
    items_.push_back(Item(std::move(key), std::move(value)));
    return items_.back().second;
  }

  // The value of `key` (ValueError when absent), or nullptr from find.
  V& operator[](const std::string& key) { return at(key); }
  const V& operator[](const std::string& key) const { return at(key); }
  V* find(const std::string& key) {
    for (auto& item : items_)
      if (item.first == key) return &item.second;
    return nullptr;
  }
  const V* find(const std::string& key) const { return const_cast<OrderedDict*>(this)->find(key); }
  bool contains(const std::string& key) const { return find(key) != nullptr; }

  // The i-th item (ValueError when i >= size()).
  Item& operator[](std::size_t i) { return item_at(i); }
  const Item& operator[](std::size_t i) const { return const_cast<OrderedDict*>(this)->item_at(i); }

  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& item : items_) out.push_back(item.first);
    return out;
  }
  std::vector<V> values() const {
    std::vector<V> out;
    for (const auto& item : items_) out.push_back(item.second);
    return out;
  }
  const std::vector<Item>& items() const { return items_; }

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }

 private:
  V& at(const std::string& key) const {
    V* v = const_cast<OrderedDict*>(this)->find(key);
    XGRAD_CHECK(v != nullptr, ValueError, "OrderedDict: no key \"", key, "\" among ", size(),
                " keys");
    return *v;
  }
  Item& item_at(std::size_t i) {
    XGRAD_CHECK(i < items_.size(), ValueError, "OrderedDict: index ", i, " is out of range for ",
                items_.size(), " items");
    return items_[i];
  }
  std::vector<Item> items_;
};

}  // namespace xgrad
