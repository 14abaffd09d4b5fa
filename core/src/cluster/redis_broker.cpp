#include "wse/cluster/redis_broker.hpp"

#include "broker_core.hpp"

namespace wse::cluster {

RedisBroker::RedisBroker(RedisBrokerOptions options)
    : core_(std::make_unique<BrokerCore>(std::move(options))) {}
RedisBroker::~RedisBroker() = default;

void RedisBroker::start(Deliver deliver) { core_->start(std::move(deliver)); }
void RedisBroker::stop() { core_->stop(); }
void RedisBroker::publish(std::string_view topic, std::string_view payload, bool binary) {
  core_->publish(topic, payload, binary);
}
void RedisBroker::interest_added(std::string_view topic) { core_->interest(topic, true); }
void RedisBroker::interest_removed(std::string_view topic) { core_->interest(topic, false); }
server::BrokerHealth RedisBroker::health() const { return core_->health(); }
std::vector<server::DeadLetter> RedisBroker::drain_dead_letters() { return core_->drain_dead_letters(); }
std::uint64_t RedisBroker::publisher_id() const noexcept { return core_->publisher_id(); }
const RedisBrokerOptions& RedisBroker::options() const noexcept { return core_->options(); }

}  // namespace wse::cluster
