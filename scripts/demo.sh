#!/bin/sh
# scripts/demo.sh [BUILD_DIR] — the offline showcase behind `make demo`, in four parts:
#   1. the engine: `hearth synth` writes a model in Qwen3-0.6B's exact layout (Q8_0, random
#      weights; once, cached in BUILD_DIR/demo/), `hearth show` describes it, `hearth run`
#      streams from it and prints the speed — a real Qwen3-0.6B Q8_0 runs at the same speed;
#   2. private documents: `hearth rag` ingests examples/docs with an all-MiniLM-L6-shaped
#      embedding model into the store BUILD_DIR/demo/stores/demo.db, searches it (hybrid,
#      with file:line citations), answers a question from it and declines one it cannot;
#   3. an agent (examples/agent/agent.yaml) plans, calls rag.search and calc, answers with
#      citations and a confidence score, and decides by its written escalation policy; a
#      second task stays below the threshold, and with --offline the escalation is refused
#      and the best local answer comes back marked low-confidence; then the hash-chained audit
#      log is verified, and a tampered copy is caught. The model answers come from a script
#      (examples/agent/demo-script*.json): random weights cannot plan, C code does the rest;
#   4. structured output (`hearth run --format SCHEMA`), when this build's `hearth run` has it.
# Nothing here uses the network. HEARTH_HOME is BUILD_DIR/demo, so nothing lands in ~/.hearth
# (the agent's audit log and run journal are where examples/agent/agent.yaml puts them, /tmp).
set -eu
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" # the examples/ paths below are relative to the repository
H="$BUILD/hearth"
[ -x "$H" ] || { echo "demo: $H not found; run 'make' first" >&2; exit 1; }
DIR="$BUILD/demo"
# the cache's old name (before the agent part): keep the 640 MB model instead of redoing it
[ -d "$BUILD/demo-models" ] && [ ! -e "$DIR" ] && mv "$BUILD/demo-models" "$DIR"
mkdir -p "$DIR"
export HEARTH_HOME="$DIR"
MODEL="$DIR/qwen3-0.6b-q8_0.gguf"
EMB="$DIR/all-minilm-l6-q8_0.gguf"
# The test fixtures' real vocabularies, when they are around (a development checkout), make the
# prompts tokenize as the real models would; elsewhere hearth synth makes a vocabulary.
FIXTURES=${HEARTH_FIXTURES:-$ROOT/../shared/fixtures}

STEP="start"
T0=$(date +%s)
trap 'rc=$?; [ $rc -eq 0 ] || printf "\n\033[1;31mdemo FAILED during: %s (exit %s)\033[0m\n" "$STEP" "$rc" >&2' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '\033[2m%s\033[0m\n' "$*"; }
step() { STEP="$*"; }

printf '\033[1mhearth\033[0m: a local-first AI agent runtime in one C binary: it runs GGUF models on the CPU,\n'
printf 'answers from your private documents, and runs agents whose decisions are plain, audited C code.\n'
note "Everything below runs on this machine, offline."

# ---------------------------------------------------------------------------- 1. the engine
say "1. The engine: a model in Qwen3-0.6B's exact shape"
if [ ! -f "$MODEL" ]; then
    step "hearth synth (the chat model)"
    note "hearth synth writes random weights in Qwen3-0.6B's layout (once; cached in $DIR)"
    VOCAB=""
    [ -f "$FIXTURES/vocab/qwen3.gguf" ] && VOCAB="--vocab $FIXTURES/vocab/qwen3.gguf"
    # shellcheck disable=SC2086
    "$H" synth --like qwen3-0.6b --type q8_0 $VOCAB --seed 1 -o "$MODEL"
fi
step "hearth show"
echo "\$ hearth show qwen3-0.6b-q8_0.gguf"
"$H" show "$MODEL" | sed -n '/^  Model/,/^  Chat template/p' | sed '$d'
step "hearth run"
PROMPT="The three most useful things a local AI agent can do for a small business are"
echo "\$ hearth run qwen3-0.6b-q8_0.gguf \"$PROMPT\" -n 48"
note "tokens stream as they are made; random weights make gibberish, at the real model's speed:"
"$H" run "$MODEL" "$PROMPT" -n 48 --temp 0.7 --seed 42
note "(below the text: prompt and generation speed in tokens/s; generation reads all ~640 MB"
note " of weights for every token, so memory bandwidth is its limit)"

# ---------------------------------------------------------------------------- 2. RAG
say "2. Private documents: ingest, search with citations, answer"
if [ ! -f "$EMB" ]; then
    step "hearth synth (the embedding model)"
    BVOCAB=""
    [ -f "$FIXTURES/vocab/bert.gguf" ] && BVOCAB="--vocab $FIXTURES/vocab/bert.gguf"
    # shellcheck disable=SC2086
    "$H" synth --like all-minilm-l6 --type q8_0 $BVOCAB --seed 1 -o "$EMB" >/dev/null
    rm -f "$DIR/stores/demo.db" "$DIR/stores/demo.db-wal" "$DIR/stores/demo.db-shm" # made with another model
fi
step "hearth rag ingest"
echo "\$ hearth rag ingest examples/docs --store demo --model all-minilm-l6-q8_0.gguf"
note "Markdown, HTML, CSV, text and code, chunked along headings; one SQLite file (FTS5 + vectors);"
note "a second run skips unchanged files"
"$H" rag ingest examples/docs --store demo --model "$EMB"
QUESTION="How many vacation days do full-time employees get?"
step "hearth rag search"
echo
echo "\$ hearth rag search \"$QUESTION\" --store demo -k 3"
note "hybrid: BM25 and vector ranks fused; every hit cites file:lines and its heading"
"$H" rag search "$QUESTION" --store demo -k 3
step "hearth rag ask"
echo
echo "\$ hearth rag ask \"$QUESTION\" --store demo --model qwen3-0.6b-q8_0.gguf"
note "the chunks go to the model with the instruction to cite them as [n] (random weights: the"
note "answer is gibberish, the sources are real)"
"$H" rag ask "$QUESTION" --store demo --model "$MODEL" --max-tokens 24 -k 3
UNKNOWN="Who won the 1998 football world cup?"
echo
echo "\$ hearth rag ask \"$UNKNOWN\" --store demo --model qwen3-0.6b-q8_0.gguf"
note "nothing relevant is retrieved, so the model is not even asked:"
"$H" rag ask "$UNKNOWN" --store demo --model "$MODEL"

# ---------------------------------------------------------------------------- 3. the agent
say "3. An agent: plan, tools, citations, confidence, escalation policy, audit"
AGENT=examples/agent/agent.yaml
AUDIT=/tmp/hearth-demo-audit.jsonl # audit.path in $AGENT
note "$AGENT: tools rag.search, calc, fs.read; confidence threshold 0.7; an escalation policy"
note "(remote model, redaction, budget); an audit log. The model's plans and answers come from a"
note "script (random weights cannot plan); retrieval, arithmetic, scoring and decisions are hearth's."
N0=0
[ -f "$AUDIT" ] && N0=$(wc -l < "$AUDIT")
step "hearth agent run (per diem)"
TASK="What per diem do I get for 3 full days plus one 10-hour day, with dinner provided once?"
echo
echo "\$ hearth agent run $AGENT \"$TASK\" --offline"
"$H" agent run "$AGENT" "$TASK" --script examples/agent/demo-script.json --offline
step "hearth agent run (hotel in Lisbon)"
TASK="How much can I spend on a hotel night in Lisbon for the Brightline kickoff?"
echo
echo "\$ hearth agent run $AGENT \"$TASK\" --offline"
note "the documents do not answer this one: confidence stays low after more samples, and the policy"
note "would escalate (redacted) to the remote model, but --offline forbids the network:"
"$H" agent run "$AGENT" "$TASK" --script examples/agent/demo-script-unsure.json --offline
step "hearth audit verify"
echo
echo "\$ hearth audit verify $AUDIT"
note "every tool call and every run's decision, one hash-chained JSON line each; these runs added:"
tail -n "+$((N0 + 1))" "$AUDIT" | sed -n \
    -e 's/^{"seq":\([0-9]*\),"time":"[^"]*","type":"tool_call","tool":"\([^"]*\)".*/  #\1 tool_call  \2/p' \
    -e 's/^{"seq":\([0-9]*\),"time":"[^"]*","type":"run","decision":"\([^"]*\)".*"escalated":\([a-z]*\).*/  #\1 run        decision \2, escalated \3/p' \
    -e 's/^{"seq":\([0-9]*\),"time":"[^"]*","type":"\([^"]*\)".*/  #\1 \2/p'
"$H" audit verify "$AUDIT"
TAMPERED="$DIR/audit-tampered.jsonl"
sed '0,/"output":"86.8"/s//"output":"68.8"/' "$AUDIT" > "$TAMPERED"
echo "\$ hearth audit verify audit-tampered.jsonl      # a copy with one calc result edited"
if "$H" audit verify "$TAMPERED"; then
    echo "demo: the edited audit log verified, which it must not" >&2
    exit 1
fi

# ---------------------------------------------------------------------------- 4. structured output
if "$H" run --help 2>/dev/null | grep -q -- '--format'; then
    step "hearth run --format"
    say "4. Structured output: generation constrained by a JSON Schema"
    PROMPT="A support ticket for: the VPN drops every hour."
    echo "\$ hearth run qwen3-0.6b-q8_0.gguf \"$PROMPT\" --format examples/schema/ticket.json"
    note "sampling is masked token by token, so even random weights can only write JSON that"
    note "validates against the schema (the strings are gibberish; the structure is guaranteed):"
    "$H" run "$MODEL" "$PROMPT" -n 200 --temp 0.8 --seed 7 --format examples/schema/ticket.json
    echo
fi

step "done"
say "done in $(($(date +%s) - T0)) s"
echo "Next: hearth chat MODEL (conversation), hearth serve (Ollama and OpenAI APIs, POST /api/agent),"
echo "hearth pull qwen3:0.6b (a real model). Every command has --help; docs/ has the details."
