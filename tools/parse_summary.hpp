// SPDX-License-Identifier: Apache-2.0
// The summary sipfast-parse prints and the corpus's .expect files hold: one key per decoded field.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sipfast/sip/message.hpp"

namespace sipfast::tools {

/// key, value pairs in a fixed order; absent fields have an empty value.
using summary = std::vector<std::pair<std::string, std::string>>;

[[nodiscard]] summary summarize(const sip::message& msg);

/// "key: value" lines ("key:" alone when the value is empty), each ending in '\n'.
[[nodiscard]] std::string to_text(const summary& s);

} // namespace sipfast::tools
