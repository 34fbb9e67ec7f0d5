"""The checkers on hand-made histories: each must accept the legal history and
reject the broken one next to it."""

from checkers import check_convergence, check_linearizable, check_lost, check_reads
from history import History, op
from workload import decode, encode


def hist(*ops):
    h = History()
    h.ops = list(ops)
    return h


# -- lost writes ------------------------------------------------------------


def test_final_state_from_the_last_acked_write_is_not_lost():
    h = hist(op(0, "put", "/k", 0, 10, value="a"), op(1, "put", "/k", 20, 30, value="b"))
    assert check_lost(h, {"/k": "b"}) == []


def test_final_state_older_than_an_acked_write_is_a_lost_write():
    h = hist(op(0, "put", "/k", 0, 10, value="a"), op(1, "put", "/k", 20, 30, value="b"))
    [(key, final, lost)] = check_lost(h, {"/k": "a"})
    assert (key, final, [o["value"] for o in lost]) == ("/k", "a", ["b"])


def test_concurrent_acked_writes_may_end_in_either_order():
    h = hist(op(0, "put", "/k", 0, 30, value="a"), op(1, "put", "/k", 10, 20, value="b"))
    assert check_lost(h, {"/k": "a"}) == [] and check_lost(h, {"/k": "b"}) == []


def test_an_unknown_write_may_be_the_final_state_but_a_failed_one_may_not():
    h = hist(op(0, "put", "/k", 0, 10, value="a", status="unknown"),
             op(1, "put", "/k", 20, 30, value="b"),
             op(2, "put", "/k", 40, 50, value="c", status="fail"))
    assert check_lost(h, {"/k": "a"}) == []
    assert check_lost(h, {"/k": "c"}) != []


def test_absent_is_fine_after_an_acked_delete_and_lost_after_an_acked_put():
    h = hist(op(0, "put", "/k", 0, 10, value="a"), op(1, "delete", "/k", 20, 30, found=True))
    assert check_lost(h, {"/k": ""}) == []
    h2 = hist(op(0, "put", "/k", 0, 10, value="a"))
    assert check_lost(h2, {"/k": ""}) != []
    assert check_lost(hist(), {"/k": ""}) == []  # never written


def test_a_refused_publish_writes_nothing():
    h = hist(op(0, "put", "/k", 0, 10, value="a"),
             op(1, "publish", "/k", 20, 30, value="p", found=False))
    assert check_lost(h, {"/k": "a"}) == []
    assert check_lost(h, {"/k": "p"}) != []


# -- reads ------------------------------------------------------------------


def test_reads_of_written_tokens_pass_and_unwritten_bytes_fail():
    h = hist(op(0, "put", "/k", 0, 10, value="a"),
             op(1, "get", "/k", 5, 15, value="a", consistency="default"),
             op(2, "get", "/k", 20, 25, value=""))
    assert check_reads(h) == []
    h.ops.append(op(3, "get", "/k", 30, 40, value=None))  # garbage bytes
    h.ops.append(op(4, "get", "/k", 30, 40, value="zz"))  # a token nobody wrote
    h.ops.append(op(5, "get", "/j", 30, 40, value="a"))   # a token written elsewhere
    assert sorted(o["id"] for o, _ in check_reads(h)) == [3, 4, 5]


def test_a_read_cannot_see_a_write_invoked_after_it_returned():
    h = hist(op(0, "get", "/k", 0, 5, value="a"), op(1, "put", "/k", 10, 20, value="a"))
    assert len(check_reads(h)) == 1


def test_content_encoding_round_trips_and_rejects_torn_bytes():
    body = encode("s1-c2-3", 5)
    assert decode(body) == "s1-c2-3"
    assert decode(body[:-1]) is None
    assert decode(body + encode("s1-c2-4", 1)) is None
    assert decode(b"") is None


# -- convergence ------------------------------------------------------------


def test_convergence_names_the_odd_node():
    same = {"applied": 7, "digest": "d", "files": {"/k": "a"}}
    assert check_convergence({"n1": same, "n2": dict(same), "n3": dict(same)}) == []
    odd = {"applied": 7, "digest": "d", "files": {"/k": "b"}}
    assert check_convergence({"n1": same, "n2": dict(same), "n3": odd}) == ["n3"]


# -- linearizability (Porcupine) --------------------------------------------


def test_linearizable_history_passes(lincheck, tmp_path):
    h = hist(op(0, "put", "/k", 0, 10, value="a", client=0),
             op(1, "get", "/k", 5, 15, value="a", client=1),
             op(2, "put", "/k", 20, 30, value="b", client=0),
             op(3, "get", "/k", 25, 35, value="a", client=1),  # concurrent with put b
             op(4, "delete", "/k", 40, 50, found=True, client=2),
             op(5, "get", "/k", 60, 70, value="", client=1),
             op(6, "publish", "/k", 80, 90, value="p", found=True, client=0),
             op(7, "publish", "/k", 100, 110, value="q", found=False, client=2),
             op(8, "get", "/k", 120, 130, value="p", client=1))
    assert check_linearizable(h, lincheck, tmp_path)["verdict"] == "yes"


def test_stale_strong_read_is_not_linearizable(lincheck, tmp_path):
    h = hist(op(0, "put", "/k", 0, 10, value="a", client=0),
             op(1, "put", "/k", 20, 30, value="b", client=0),
             op(2, "get", "/k", 40, 50, value="a", client=1))  # b was acked before
    res = check_linearizable(h, lincheck, tmp_path)
    assert res["verdict"] == "no" and res["keys"]["/k"]["result"] == "Illegal"
    assert (tmp_path / "linearizability-viz").is_dir()


def test_default_reads_and_failed_writes_are_not_checked_for_linearizability(lincheck, tmp_path):
    h = hist(op(0, "put", "/k", 0, 10, value="a"),
             op(1, "put", "/k", 20, 30, value="b"),
             op(2, "get", "/k", 40, 50, value="a", consistency="default"),
             op(3, "put", "/k", 60, 70, value="c", status="fail"),
             op(4, "get", "/k", 80, 90, value="b"))
    assert check_linearizable(h, lincheck, tmp_path)["verdict"] == "yes"


def test_an_unknown_write_may_take_effect_late_or_never(lincheck, tmp_path):
    late = hist(op(0, "put", "/k", 0, 10, value="a"),
                op(1, "put", "/k", 20, None, value="u", status="unknown"),
                op(2, "get", "/k", 30, 40, value="a"),
                op(3, "get", "/k", 50, 60, value="u"))
    assert check_linearizable(late, lincheck, tmp_path)["verdict"] == "yes"
    never = hist(op(0, "put", "/k", 0, 10, value="a"),
                 op(1, "put", "/k", 20, None, value="u", status="unknown"),
                 op(2, "get", "/k", 30, 40, value="a"))
    assert check_linearizable(never, lincheck, tmp_path)["verdict"] == "yes"
    flicker = hist(op(0, "put", "/k", 0, 10, value="a"),
                   op(1, "put", "/k", 20, None, value="u", status="unknown"),
                   op(2, "get", "/k", 30, 40, value="u"),
                   op(3, "get", "/k", 50, 60, value="a"))  # u then back to a: illegal
    assert check_linearizable(flicker, lincheck, tmp_path)["verdict"] == "no"


def test_write_gaps_measure_the_longest_stretch_without_an_acked_write():
    from report import write_gaps
    s = 10**9
    h = hist(op(0, "put", "/k", 0, 1 * s, value="a"),
             op(1, "put", "/k", 1 * s, 13 * s, value="b", status="unknown"),
             op(2, "put", "/k", 2 * s, 9 * s, value="c"),
             op(3, "get", "/k", 9 * s, 20 * s, value="c"))
    longest, share = write_gaps(h)
    assert longest == 11.0  # from the ack at 9 s to the end of the history at 20 s
    assert share == 0.5     # acks in windows [0,5) and [5,10), none in [10,15) and [15,20)


def test_progress_line_counts_acked_unknown_and_failed_faults():
    from report import fault_failed, progress_line
    h = hist(op(0, "put", "/k", 0, 1, value="a"),
             op(1, "put", "/k", 2, 3, value="b", status="unknown"),
             op(2, "get", "/k", 4, 5, value="a"),
             op(3, "tmp-put", "/tmp/x", 6, 7, value="c"))  # part of a publish: not counted
    faults = [{"kind": "kill-leader", "apply": {"rc": 0}, "heal": {"rc": 0}},
              {"kind": "kill-follower", "apply": {"rc": 0}, "heal": {"rc": 1}},
              {"kind": "partition", "apply": {"rc": 0}}]  # still held: no heal yet
    assert [fault_failed(f) for f in faults] == [False, True, False]
    assert progress_line(60.4, 1800, h, faults) == \
        "campaign: 60/1800 s ops=3 acked=1 unknown=1 faults=3 fault_errors=1"
