#!/bin/sh
# scripts/demo.sh BUILD_DIR — the offline showcase behind `make demo`:
#   1. synthesizes a model shaped exactly like Qwen3-0.6B (Q8_0, random weights) with
#      `hearth synth`, cached under BUILD_DIR/demo-models/ (skipped when already there);
#   2. `hearth show` describes it;
#   3. `hearth run` generates from a prompt, streaming tokens as they come, then prints the
#      prompt and generation speed;
#   4. `hearth rag` ingests examples/docs with an all-MiniLM-L6-shaped embedding model, searches
#      it, and asks a question (answered with citations) and one it has no documents for.
# The weights are random, so the text is gibberish; the speed is what a real Qwen3-0.6B Q8_0
# gets on this machine (speed does not depend on weight values).
set -eu
BUILD=${1:-build}
H="$BUILD/hearth"
[ -x "$H" ] || { echo "demo: $H not found; run 'make' first" >&2; exit 1; }
DIR="$BUILD/demo-models"
MODEL="$DIR/qwen3-0.6b-q8_0.gguf"
FIXTURES=${HEARTH_FIXTURES:-$(cd "$(dirname "$0")/../.." && pwd)/shared/fixtures}
mkdir -p "$DIR"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ ! -f "$MODEL" ]; then
    say "hearth synth: a random-weight model in Qwen3-0.6B's exact layout (once, cached)"
    VOCAB=""
    # with the real Qwen3 vocabulary when the test fixtures are around, so the prompt is
    # tokenized as Qwen3 would; otherwise a synthetic SentencePiece vocabulary
    [ -f "$FIXTURES/vocab/qwen3.gguf" ] && VOCAB="--vocab $FIXTURES/vocab/qwen3.gguf"
    # shellcheck disable=SC2086
    "$H" synth --like qwen3-0.6b --type q8_0 $VOCAB --seed 1 -o "$MODEL"
fi

say "hearth show $MODEL"
"$H" show "$MODEL"

PROMPT="The three most useful things a local AI agent can do for a small business are"
say "hearth run (streaming; random weights, so expect gibberish at real speed)"
echo "prompt: $PROMPT"
echo
"$H" run "$MODEL" "$PROMPT" -n 64 --temp 0.7 --seed 42
echo
say "hearth rag: the bundled examples/docs, embedded with an all-MiniLM-L6-shaped model (random weights)"
EMB="$DIR/all-minilm-l6-q8_0.gguf"
BVOCAB=""
[ -f "$FIXTURES/vocab/bert.gguf" ] && BVOCAB="--vocab $FIXTURES/vocab/bert.gguf"
# shellcheck disable=SC2086
[ -f "$EMB" ] || "$H" synth --like all-minilm-l6 --type q8_0 $BVOCAB --seed 1 -o "$EMB"
STORE="$DIR/demo-docs.db"
"$H" rag ingest examples/docs --store "$STORE" --model "$EMB"
QUESTION="How many vacation days do full-time employees get?"
say "hearth rag search (hybrid: BM25 + vectors, fused by rank)"
"$H" rag search "$QUESTION" --store "$STORE" -k 3
say "hearth rag ask (answers from the retrieved chunks with [n] citations; random weights: gibberish)"
"$H" rag ask "$QUESTION" --store "$STORE" --model "$MODEL" --max-tokens 32 -k 3
"$H" rag ask "Who won the 1998 football world cup?" --store "$STORE" --model "$MODEL"
echo
say "done: the speed line above is prompt processing and generation in tokens/s"
