// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// Topology hiding ([topology] hide, docs/configuration.md; docs/architecture.md, "Topology
/// hiding"). Nothing here allocates: text is sealed into fixed buffers and the editor's scratch.

/// What a URI parameter of our Record-Route holds: the Record-Route values of the other side,
/// sealed (txn::seal, bound to the Call-ID), which a request within the dialog brings back in its
/// Route, so it reaches that side again through the route set it was not shown.
inline constexpr std::string_view sealed_route_param = "sfr";
/// How the user part of a Contact URI of ours starts: the rest is the real Contact URI, sealed.
inline constexpr std::string_view sealed_contact_prefix = "sfc.";

/// Writes the Via lines `m` arrived with ("Via: " value CRLF each, in order), the top one with the
/// received and rport a forward gives it (RFC 3261 §18.2.1, RFC 3581 §4); false when `out` is full.
bool write_received_vias(const sip::message& m, const net_address& source, bool stream, core::text_writer& out) noexcept;

/// For forward(): removes every Via and Record-Route line the request came with and puts a URI of
/// ours (facing `side`) in place of each Contact URI (not in a REGISTER, whose bindings stay the
/// user's). `sealed_route` gets the removed Record-Route values sealed for our own Record-Route,
/// empty when there were none. A failure is noted in ctx.err.
void hide_request(request_context& ctx, const listen_point& side, std::string_view& sealed_route) noexcept;

/// For a response going upstream: our Via (the only one, the others having been hidden) replaced by
/// `vias`, the Via lines kept in the transaction; the Record-Route values of the downstream side
/// sealed into ours and the upstream side's, opened from ours, put back after them; each Contact URI
/// replaced by one of ours facing `side`. False when an edit did not fit: the response must not go.
[[nodiscard]] bool hide_response(const sip::message& m, sip::message_editor& e, const local_identity& local,
                                 const listen_point& side, std::string_view vias, const sip::header& our_via) noexcept;

/// A request stage after route_locally: a Request-URI that is one of our sealed Contacts becomes the
/// real one again, and the route set sealed in the Record-Route of ours it brought back in its Route
/// becomes its Route (the next hop). 403 for a sealed route set that is not ours for this Call-ID.
[[nodiscard]] verdict restore_topology(request_context& ctx) noexcept;

} // namespace sipfast::proxy
