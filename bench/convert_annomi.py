"""Convert AnnoMI (expert-annotated motivational interviewing) to coded-segment datasets.

Two coding schemes, one dataset each, so every unit has exactly one label of its scheme:
`annomi-therapist` (therapist turns: reflection / question / therapist_input / other) and
`annomi-client` (client turns: change / neutral / sustain). Split by conversation (20 % test, fixed
seed). The 7 conversations that all 10 experts coded go to the test split of the main datasets
(labelled by majority vote, coder `expert`) and also to `*-multi` datasets with every expert as a
coder beside `consensus` (the majority), for human–human agreement on the same units.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import pandas as pd

from _common import OUT, shared_path, split_groups, write_dataset

SCHEMES = {
    "therapist": (
        "main_therapist_behaviour",
        {
            "reflection": "The therapist reflects what the client said, simply or adding meaning.",
            "question": "The therapist asks the client a question, open or closed.",
            "therapist_input": "The therapist gives information, advice, options or negotiates.",
            "other": "Any other therapist talk: greetings, affirmations, small talk, fillers.",
        },
    ),
    "client": (
        "client_talk_type",
        {
            "change": "The client talks in favour of changing the target behaviour.",
            "neutral": "The client's talk is neither for nor against the behaviour change.",
            "sustain": "The client talks in favour of keeping the current behaviour.",
        },
    ),
}


def majority(labels: list[str]) -> str:
    counts = Counter(labels).most_common()
    top = counts[0][1]
    return sorted(lab for lab, n in counts if n == top)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    frame = pd.read_csv(shared_path("data", "annomi", "AnnoMI-full.csv"), dtype=str)
    per_conv = frame.groupby("transcript_id")["annotator_id"].nunique()
    multi = set(per_conv[per_conv > 1].index)
    split = split_groups(sorted(set(frame["transcript_id"]) - multi), args.test_fraction, args.seed)
    split.update({t: "test" for t in multi})

    for who, (column, definitions) in SCHEMES.items():
        rows = frame[frame["interlocutor"] == who]
        codebook = [{"code": c, "definition": d} for c, d in definitions.items()]
        segments, codings, multi_segments, multi_codings = [], [], [], []
        for (tid, uid), group in rows.groupby(["transcript_id", "utterance_id"], sort=False):
            sid = f"{tid}-{uid}"
            text = " ".join(str(group["utterance_text"].iloc[0]).split())
            if not text or text == "nan":
                continue
            seg = {"id": sid, "text": text, "document": tid, "speaker": who, "split": split[tid]}
            labels = [x for x in group[column] if x in definitions]
            if not labels:
                continue
            segments.append(seg)
            codings.append({"segment_id": sid, "coder": "expert", "code": majority(labels)})
            if tid in multi:
                multi_segments.append(seg)
                multi_codings.append(
                    {"segment_id": sid, "coder": "consensus", "code": majority(labels)}
                )
                for _, r in group.iterrows():
                    if r[column] in definitions:
                        multi_codings.append(
                            {
                                "segment_id": sid,
                                "coder": f"expert_{r['annotator_id']}",
                                "code": r[column],
                            }
                        )
        main = write_dataset(Path(args.out) / f"annomi-{who}", codebook, segments, codings)
        extra = write_dataset(
            Path(args.out) / f"annomi-{who}-multi", codebook, multi_segments, multi_codings
        )
        n_test = sum(s["split"] == "test" for s in segments)
        print(
            f"{main}: {len(segments)} units ({n_test} test); {extra}: {len(multi_segments)} units"
        )


if __name__ == "__main__":
    main()
