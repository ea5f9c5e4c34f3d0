// SPDX-License-Identifier: Apache-2.0
#include "app_options.hpp"

namespace sipfast::dpdk {

bool parse_options(int argc, char** argv, app_options& o, std::string& error) {
    for (int i = 0; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&](std::string& out) {
            if (i + 1 >= argc) {
                error = a + " needs a value";
                return false;
            }
            out = argv[++i];
            return true;
        };
        std::string v;
        // A count: digits only, refused by name otherwise.
        const auto count = [&](unsigned& out) {
            if (!value(v)) return false;
            if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
                error = a + " " + v + ": expected a whole number";
                return false;
            }
            out = static_cast<unsigned>(std::stoul(v));
            return true;
        };
        const auto add = [&](std::vector<std::string>& list) {
            if (!value(v)) return false;
            list.push_back(v);
            return true;
        };
        bool ok = true;
        if (a == "--config") ok = value(o.cli.config_file);
        else if (a == "--address") ok = add(o.cli.addresses);
        else if (a == "--port") ok = value(o.cli.port);
        else if (a == "--gateway") ok = add(o.cli.gateways);
        else if (a == "--exception-port") ok = value(o.cli.exception_port);
        else if (a == "--listen") ok = add(o.cli.listen);
        else if (a == "--domain") ok = add(o.cli.domains);
        else if (a == "--workers") ok = count(o.cli.workers);
        else if (a == "--exit-when-idle") ok = count(o.exit_when_idle_ms);
        else if (a == "--seconds") ok = count(o.seconds);
        else if (a == "--generate") ok = count(o.generate);
        else if (a == "--generate-rate") ok = count(o.generate_rate);
        else if (a == "--replay") ok = value(o.replay);
        else if (a == "--replay-rate") ok = count(o.replay_rate);
        else if (a == "--neighbour-reachable-ms") ok = count(o.neighbour_reachable_ms);
        else if (a == "--framing-only") o.framing_only = true;
        else if (a == "--allow-remote-numa") o.allow_remote_numa = true;
        else if (a == "--mode") {
            ok = value(o.cli.mode);
            if (ok && o.cli.mode != "stateless" && o.cli.mode != "stateful") {
                error = "--mode " + o.cli.mode + ": stateless or stateful";
                return false;
            }
        } else if (a == "--record-route") {
            ok = value(o.cli.record_route);
            if (ok && o.cli.record_route != "on" && o.cli.record_route != "off") {
                error = "--record-route " + o.cli.record_route + ": on or off";
                return false;
            }
        } else if (a == "--help" || a == "-h") {
            error = "usage: sipfast-dpdk [EAL args] -- [--config FILE] [--port NAME] [--address IP/PREFIX]... "
                    "[--gateway IP]... [--exception-port NAME] [--listen URI]... [--workers N] "
                    "[--mode stateless|stateful] [--domain NAME]... [--record-route on|off] "
                    "[--exit-when-idle MS] [--seconds S] [--framing-only] [--generate CALLS [--generate-rate CALLS_PER_S]] [--replay PCAP --replay-rate FRAMES_PER_S] [--neighbour-reachable-ms MS] [--allow-remote-numa]";
            return false;
        } else {
            error = "unknown option " + a + " (--help lists them)";
            return false;
        }
        if (!ok) return false;
    }
    return true;
}

} // namespace sipfast::dpdk
