// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/on_demand.hpp"

#include <new>

#include "decode.hpp"

namespace sipfast::sip {

namespace {

parse_error decode_value(std::string_view text, name_addr& out) noexcept {
    return detail::decode_name_addr(text, out, nullptr);
}

parse_error decode_value(std::string_view text, contact& out) noexcept {
    std::string_view rest;  // the values after the first are read with for_each_value
    return detail::decode_contact(text, out, &rest);
}

} // namespace

template <class T>
void on_demand<T>::decode() const noexcept {
    ::new (&value_) T{};
    error_ = decode_value(text, value_);
    state_ = error_ == parse_error::none ? state::decoded : state::malformed;
}

template class on_demand<name_addr>;
template class on_demand<contact>;

} // namespace sipfast::sip
