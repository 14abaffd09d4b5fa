"""Sequencer and EventSequencer: seed snippets and the ordering rules."""

from __future__ import annotations

import pytest

from wse_server import EventSequencer, RustEventSequencer, RustSequencer, Sequencer


def test_seed_sequencer_snippet() -> None:
    seq = RustSequencer(window_size=10000)
    n = seq.next_seq()  # increment and return
    assert n == 1
    n = seq.get_current_seq()  # read without incrementing
    assert n == 1
    assert not seq.is_duplicate("evt-abc-123")
    assert seq.is_duplicate("evt-abc-123")
    seq.cleanup(max_age_secs=300.0)  # evict entries older than 5 minutes
    assert seq.seen_count() == 1  # number of tracked event IDs
    seq.cleanup(max_age_secs=0.0)
    assert seq.seen_count() == 0


def test_sequencer_window_evicts_oldest() -> None:
    seq = Sequencer(window_size=3)
    for i in range(4):
        assert not seq.is_duplicate(f"id{i}")
    assert seq.seen_count() == 3
    assert not seq.is_duplicate("id0")  # forgotten
    assert seq.is_duplicate("id3")
    assert seq.is_duplicate(3) is False  # ints are accepted (as their decimal text)
    with pytest.raises(TypeError):
        seq.is_duplicate(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="window_size"):
        Sequencer(window_size=0)


def test_seed_event_sequencer_snippet() -> None:
    es = RustEventSequencer(window_size=10000, max_out_of_order=100)
    seq_num = es.next_seq()
    assert seq_num == 1
    assert not es.is_duplicate("evt-abc-123")
    assert es.is_duplicate("evt-abc-123")
    delivered = []
    result = es.process_sequenced_event("prices", sequence=42, event={"p": 42})
    if result is not None:
        for event in result:  # may include buffered events now in order
            delivered.append(event)
    assert delivered == [{"p": 42}]
    es.get_sequence_stats()
    es.get_buffer_stats()
    es.cleanup()
    es.reset_sequence("prices")
    es.reset_sequence()


def test_ordering_rules() -> None:
    es = EventSequencer(max_out_of_order=5)
    assert es.process_sequenced_event("t", 10, "e10") == ["e10"]  # first event: delivered
    assert es.process_sequenced_event("t", 11, "e11") == ["e11"]  # expected
    assert es.process_sequenced_event("t", 13, "e13") is None  # small gap: buffered
    assert es.process_sequenced_event("t", 14, "e14") is None
    buf = es.get_buffer_stats()
    assert buf["total_buffered"] == 2
    assert buf["topics"]["t"]["expected_sequence"] == 12
    assert buf["topics"]["t"]["buffered_sequences"] == [13, 14]
    assert buf["topics"]["t"]["gap_size"] == 1
    stats = es.get_sequence_stats()
    assert stats["topics"]["t"]["gaps"] == [{"start": 12, "end": 12, "size": 1}]
    assert es.process_sequenced_event("t", 12, "e12") == ["e12", "e13", "e14"]  # gap filled
    assert es.process_sequenced_event("t", 12, "again") is None  # old: dropped
    assert es.process_sequenced_event("t", 17, "e17") is None
    assert es.process_sequenced_event("t", 17, "dup") is None  # already buffered: dropped
    # Large gap: give up on 15..16 and 18..29 but keep what is held, in order.
    assert es.process_sequenced_event("t", 30, "e30") == ["e17", "e30"]
    assert es.process_sequenced_event("t", 31, "e31") == ["e31"]
    stats = es.get_sequence_stats()
    assert stats["out_of_order_count"] == 3
    assert stats["dropped_count"] == 2 + 14  # old + dup, then 15,16,18..29
    assert stats["total_topics"] == 1
    assert es.get_buffer_stats()["total_topics"] == 0
    # Topics are independent, and reset starts a topic over.
    assert es.process_sequenced_event("u", 0, "u0") == ["u0"]
    es.reset_sequence("t")
    assert es.process_sequenced_event("t", 5, "fresh") == ["fresh"]
    with pytest.raises(ValueError, match="sequence"):
        es.process_sequenced_event("t", -1, "neg")


def test_duplicate_count_in_stats() -> None:
    es = EventSequencer()
    es.is_duplicate("a")
    es.is_duplicate("a")
    es.is_duplicate("a")
    stats = es.get_sequence_stats()
    assert stats["duplicate_count"] == 2
    assert stats["seen_ids_count"] == 1
