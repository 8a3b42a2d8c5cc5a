/*
 * pretok.c — BPE pre-tokenizers: the regex lists llama.cpp applies for each
 * tokenizer.ggml.pre value, applied the way llama.cpp applies them. Each regex splits every
 * current piece into its matches and the text between them. The three common ones (GPT-2,
 * Llama 3, Qwen 2) are hand-written scanners over code-point classes, as in llama.cpp; the rest
 * run on PCRE2 over llama.cpp's "collapsed" text (one byte per code point standing for its
 * Unicode category), which reproduces its std::regex results, quirks included.
 * The regex strings are data transcribed from llama.cpp's llama-vocab.cpp (MIT).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

static const char *const re_default[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "\\p{N}+",
    "[0-9][0-9][0-9]",
    NULL};
static const char *const re_llama3[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_deepseek_llm[] = {
    "[\r\n]",
    "\\s?[A-Za-z\xc2\xb5\xc3\x80-\xc3\x96\xc3\x98-\xc3\xb6\xc3\xb8-\xc6\xba\xc6\xbc-\xc6\xbf\xc7\x84-\xca\x93\xca\x95-\xca\xaf\xcd\xb0-\xcd\xb3\xcd\xb6\xcd\xb7\xcd\xbb-\xcd\xbd\xcd\xbf\xce\x86\xce\x88-\xce\x8a\xce\x8c\xce\x8e-\xce\xa1\xce\xa3-\xcf\xb5\xcf\xb7-\xd2\x81\xd2\x8a-\xd4\xaf\xd4\xb1-\xd5\x96\xe1\x82\xa0-\xe1\x83\x85\xe1\x8e\xa0-\xe1\x8f\xb5\xe1\x8f\xb8-\xe1\x8f\xbd\xe1\xb2\x90-\xe1\xb2\xba\xe1\xb2\xbd-\xe1\xb2\xbf\xe1\xb4\x80-\xe1\xb4\xab\xe1\xb5\xab-\xe1\xb5\xb7\xe1\xb5\xb9-\xe1\xb6\x9a\xe1\xb8\x80-\xe1\xbc\x95\xe1\xbc\x98-\xe1\xbc\x9d\xe1\xbc\xa0-\xe1\xbd\x85\xe1\xbd\x88-\xe1\xbd\x8d\xe1\xbd\x90-\xe1\xbd\x97\xe1\xbd\x99\xe1\xbd\x9b\xe1\xbd\x9d\xe1\xbd\x9f-\xe1\xbd\xbd\xe1\xbe\x80-\xe1\xbe\xb4\xe1\xbe\xb6-\xe1\xbe\xbc\xe1\xbe\xbe\xe1\xbf\x82-\xe1\xbf\x84\xe1\xbf\x86-\xe1\xbf\x8c\xe1\xbf\x90-\xe1\xbf\x93\xe1\xbf\x96-\xe1\xbf\x9b\xe1\xbf\xa0-\xe1\xbf\xac\xe1\xbf\xb2-\xe1\xbf\xb4\xe1\xbf\xb6-\xe1\xbf\xbc\xe2\x84\x82\xe2\x84\x87\xe2\x84\x8a-\xe2\x84\x93\xe2\x84\x95\xe2\x84\x99-\xe2\x84\x9d\xe2\x84\xa4\xe2\x84\xa6\xe2\x84\xa8\xe2\x84\xaa-\xe2\x84\xad\xe2\x84\xaf-\xe2\x84\xb4\xe2\x84\xb9\xe2\x84\xbc-\xe2\x84\xbf\xe2\x85\x85-\xe2\x85\x89\xe2\x85\x8e\xe2\x86\x83\xe2\x86\x84\xe2\xb0\x80-\xe2\xb1\xbb\xe2\xb1\xbe-\xe2\xb3\xa4\xe2\xb3\xab-\xe2\xb3\xae\xe2\xb3\xb2\xe2\xb3\xb3\xea\x99\x80-\xea\x99\xad\xea\x9a\x80-\xea\x9a\x9b\xea\x9c\xa2-\xea\x9d\xaf\xea\x9d\xb1-\xea\x9e\x87\xea\x9e\x8b-\xea\x9e\x8e\xea\xad\xb0-\xea\xae\xbf\xef\xac\x80-\xef\xac\x86\xef\xac\x93-\xef\xac\x97\xef\xbc\xa1-\xef\xbc\xba\xef\xbd\x81-\xef\xbd\x9a\xf0\x90\x90\x80-\xf0\x90\x91\x8f\xf0\x90\x92\xb0-\xf0\x90\x93\x93\xf0\x90\x93\x98-\xf0\x90\x93\xbb\xf0\x90\xb2\x80-\xf0\x90\xb2\xb2\xf0\x90\xb3\x80-\xf0\x90\xb3\xb2\xf0\x91\xa2\xa0-\xf0\x91\xa3\x9f\xf0\x9e\xa4\x80-\xf0\x9e\xa5\x83]+",
    "\\s?[!-/:-~\xef\xbc\x81-\xef\xbc\x8f\xef\xbc\x9a-\xef\xbd\x9e\xe2\x80\x98-\xe2\x80\x9f\xe3\x80\x80-\xe3\x80\x82]+",
    "\\s+$",
    "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+",
    "\\p{N}+",
    NULL};
static const char *const re_deepseek_coder[] = {
    "[\r\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+",
    "\\p{N}",
    NULL};
static const char *const re_deepseek3_llm[] = {
    "\\p{N}{1,3}",
    "[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_falcon[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|`]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "[0-9][0-9][0-9]",
    NULL};
static const char *const re_starcoder[] = {
    "\\p{N}",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    NULL};
static const char *const re_gpt2[] = {
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    NULL};
static const char *const re_qwen2[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_qwen35[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_poro[] = {
    " ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+",
    NULL};
static const char *const re_viking[] = {
    " ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+",
    "\\p{N}",
    NULL};
static const char *const re_tekken[] = {
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_chameleon[] = {
    "<sentinel:[0-9]+>",
    "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
    "([\\t\\n]|    |  )",
    "\\p{N}",
    "[\\p{P}!-/:-@\\[-`{-~]",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    NULL};
static const char *const re_gpt4o[] = {
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_seed_coder[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_bailingmoe[] = {
    "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_ufakzeka[] = {
    "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_exaone_moe[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_jais2[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}",
    NULL};
static const char *const re_minicpm5[] = {
    "\\p{N}{1,3}",
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_granite_emb_multi[] = {
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_youtu[] = {
    "[\xea\xb0\x80-\xed\x9e\xa3\xe3\x84\xb1-\xe3\x86\x8e]+|[\xef\xbc\x81\xe2\x80\xa6\xe2\x80\x9c\xe2\x80\x9d\xe2\x80\x98\xe2\x80\x99\xe2\x80\x94\xef\xbc\x9a\xef\xbc\x9b\xef\xbc\x8c\xe3\x80\x81-\xe3\x80\xbf\xef\xb8\xb0-\xef\xb9\x8f]+|[\xe3\x84\x85-\xe3\x84\xaf]+|[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+",
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_spark2_5[] = {
    "\\p{N}{1,3}",
    "[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
    "\\p{N}",
    NULL};
static const char *const re_laguna[] = {
    "[^\\n]+|[\\n]+",
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};

typedef struct pre_def {
    const char *names; /* '|'-separated tokenizer.ggml.pre values */
    const char *const *regexes;
    bool clean_spaces, ignore_merges, add_bos;
} pre_def;

/* clean_spaces defaults to true for BPE; these are llama.cpp's per-name exceptions */
static const pre_def pre_defs[] = {
    {"default", re_default, true, false, false},
    {"llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2|jina-v5-nano", re_llama3, true, true, true},
    {"dbrx|smaug-bpe", re_llama3, true, false, false},
    {"deepseek-llm", re_deepseek_llm, false, false, false},
    {"deepseek-coder", re_deepseek_coder, false, false, false},
    {"deepseek-v3|hunyuan-dense|joyai-llm|hy_v4", re_deepseek3_llm, false, false, false},
    {"spark2_5", re_spark2_5, false, false, false},
    {"youtu", re_youtu, false, true, false},
    {"falcon", re_falcon, true, false, false},
    {"mpt|gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|a.x-4.0|mellum|modern-bert|olmo|jais|exaone4",
     re_gpt2, true, false, false},
    {"trillion|granite-docling", re_gpt2, false, false, false},
    {"starcoder|refact|codeshell|exaone|minerva-7b|mellum2", re_starcoder, true, false, false},
    {"command-r|smollm", re_starcoder, false, false, false},
    {"qwen2|deepseek-r1-qwen|kormo|f2llmv2|hunyuan|solar-open|grok-2", re_qwen2, false, false, false},
    {"stablelm2|megrez", re_qwen2, true, false, false},
    {"qwen35", re_qwen35, false, false, false},
    {"poro-chat", re_poro, false, false, false},
    {"bloom|gpt3-finnish", re_poro, true, false, false},
    {"viking", re_viking, false, false, false},
    {"tekken", re_tekken, false, true, true},
    {"chameleon", re_chameleon, false, false, true},
    {"gpt-4o|llama4|kanana2|talkie|minimax-m2", re_gpt4o, false, false, false},
    {"granite-embed-multi-97m", re_granite_emb_multi, false, true, false},
    {"seed-coder", re_seed_coder, false, false, false},
    {"bailingmoe|bailingmoe2|llada-moe", re_bailingmoe, false, false, false},
    {"ufakzeka", re_ufakzeka, false, false, false},
    {"exaone-moe", re_exaone_moe, true, false, false},
    {"jais-2", re_jais2, true, false, false},
    {"minicpm5", re_minicpm5, true, true, false},
    {"laguna", re_laguna, false, false, false},
};

typedef enum stage_kind { ST_GPT2, ST_LLAMA3, ST_QWEN2, ST_REGEX_COLLAPSED, ST_REGEX_UTF } stage_kind;

typedef struct stage {
    stage_kind kind;
    pcre2_code *re;
} stage;

struct tok_pretok {
    stage stages[8];
    int n;
    bool need_collapse;
};

static bool name_in(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !memcmp(p, name, n)) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

/* The Unicode classes llama.cpp's collapsed regexes can name, and their stand-in bytes. */
static const struct {
    const char *name;
    uint16_t flag;
} ucats[] = {
    {"\\p{N}", UF_NUMBER}, {"\\p{L}", UF_LETTER}, {"\\p{P}", UF_PUNCT}, {"\\p{M}", UF_MARK},
    {"\\p{S}", UF_SYMBOL}, {"\\p{Lu}", UF_LETTER}, {"\\p{Ll}", UF_LETTER}, {"\\p{Lt}", UF_LETTER},
    {"\\p{Lm}", UF_LETTER}, {"\\p{Lo}", UF_LETTER},
};

static uint8_t collapsed_byte(uint16_t flag)
{
    switch (flag) {
    case UF_NUMBER: return 0xD1;
    case UF_LETTER: return 0xD2;
    case UF_PUNCT: return 0xD3;
    case UF_MARK: return 0xD4;
    case UF_SYMBOL: return 0xD5;
    default: return 0xD0;
    }
}

/* The ASCII members of each class, as they are spelled inside a character class. */
static const char *ascii_members(uint16_t flag)
{
    switch (flag) {
    case UF_NUMBER: return "0-9";
    case UF_LETTER: return "A-Za-z";
    case UF_PUNCT: return "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}";
    case UF_SYMBOL: return "\\$\\+<->^`\\|\\~";
    default: return "";
    }
}

static bool uses_categories(const char *re)
{
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(ucats); i++)
        if (strstr(re, ucats[i].name)) return true;
    return false;
}

/* Rewrites \p{X} into a class of its stand-in byte plus its ASCII members. */
static char *collapse_regex(const char *re)
{
    size_t n = strlen(re);
    char *out = malloc(n * 8 + 1), *o = out;
    if (!out) return NULL;
    bool inside = false;
    for (size_t i = 0; i < n; i++) {
        if (re[i] == '[' && (i == 0 || re[i - 1] != '\\')) {
            *o++ = '[';
            inside = true;
            continue;
        }
        if (inside && re[i] == ']' && re[i - 1] != '\\') {
            *o++ = ']';
            inside = false;
            continue;
        }
        if (re[i] == '\\' && i + 3 < n && re[i + 1] == 'p' && re[i + 2] == '{') {
            const char *close = strchr(re + i + 3, '}');
            if (close && (size_t)(close - re) <= i + 10) {
                size_t plen = (size_t)(close - re) - i + 1;
                for (size_t k = 0; k < HEARTH_ARRAY_LEN(ucats); k++) {
                    if (strlen(ucats[k].name) != plen || memcmp(ucats[k].name, re + i, plen)) continue;
                    if (!inside) *o++ = '[';
                    *o++ = (char)collapsed_byte(ucats[k].flag);
                    const char *m = ascii_members(ucats[k].flag);
                    memcpy(o, m, strlen(m));
                    o += strlen(m);
                    if (!inside) *o++ = ']';
                    i += plen - 1;
                    goto next;
                }
            }
        }
        *o++ = re[i];
    next:;
    }
    *o = '\0';
    return out;
}

static hearth_status compile_stage(const char *re, stage *st, hearth_error *err)
{
    if (!strcmp(re, re_gpt2[0])) {
        st->kind = ST_GPT2;
        return HEARTH_OK;
    }
    if (!strcmp(re, re_llama3[0])) {
        st->kind = ST_LLAMA3;
        return HEARTH_OK;
    }
    if (!strcmp(re, re_qwen2[0])) {
        st->kind = ST_QWEN2;
        return HEARTH_OK;
    }
    bool collapsed = uses_categories(re);
    char *pattern = collapsed ? collapse_regex(re) : NULL;
    if (collapsed && !pattern) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    int code;
    PCRE2_SIZE at;
    /* ECMAScript semantics: '$' only at the very end */
    uint32_t opts = PCRE2_DOLLAR_ENDONLY | (collapsed ? 0 : PCRE2_UTF | PCRE2_NO_UTF_CHECK);
    st->re = pcre2_compile((PCRE2_SPTR)(collapsed ? pattern : re), PCRE2_ZERO_TERMINATED, opts, &code, &at, NULL);
    free(pattern);
    if (!st->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return hearth_fail(err, HEARTH_ERR_INTERNAL, "pre-tokenizer regex does not compile at %zu: %s", (size_t)at,
                           (const char *)msg);
    }
    pcre2_jit_compile(st->re, PCRE2_JIT_COMPLETE); /* optional: falls back to the interpreter */
    st->kind = collapsed ? ST_REGEX_COLLAPSED : ST_REGEX_UTF;
    return HEARTH_OK;
}

hearth_status tok_pretok_new(const char *pre, tok_pretok **out, bool *clean_spaces, bool *ignore_merges,
                             bool *add_bos, hearth_error *err)
{
    *out = NULL;
    const pre_def *d = NULL;
    if (!*pre) {
        hearth_warn("tokenizer.ggml.pre is missing: using llama.cpp's 'default' pre-tokenizer (quality may suffer)");
        d = &pre_defs[0];
    }
    for (size_t i = 0; !d && i < HEARTH_ARRAY_LEN(pre_defs); i++)
        if (name_in(pre_defs[i].names, pre)) d = &pre_defs[i];
    if (!d)
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "pre-tokenizer '%.60s' is not supported", pre);
    tok_pretok *p = calloc(1, sizeof *p);
    if (!p) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    for (int i = 0; d->regexes[i]; i++) {
        hearth_status st = compile_stage(d->regexes[i], &p->stages[p->n], err);
        if (st) {
            tok_pretok_free(p);
            return st;
        }
        if (p->stages[p->n].kind == ST_REGEX_COLLAPSED) p->need_collapse = true;
        p->n++;
    }
    *clean_spaces = d->clean_spaces;
    *ignore_merges = d->ignore_merges;
    if (d->add_bos) *add_bos = true;
    *out = p;
    return HEARTH_OK;
}

void tok_pretok_free(tok_pretok *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) pcre2_code_free(p->stages[i].re);
    free(p);
}

/* ---- splitting ------------------------------------------------------------------------------ */

typedef struct lens {
    size_t *v;
    size_t n, cap;
    bool oom;
} lens;

static void emit(lens *l, size_t n)
{
    if (!n || l->oom) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        size_t *p = realloc(l->v, cap * sizeof *p);
        if (!p) {
            l->oom = true;
            return;
        }
        l->v = p, l->cap = cap;
    }
    l->v[l->n++] = n;
}

typedef struct span {
    const uint32_t *c;
    const uint16_t *f;
    size_t b, e;
} span;

static inline uint32_t cp_at(const span *s, size_t i) { return i < s->e ? s->c[i] : 0xFFFFFFFFu; }
static inline uint16_t fl_at(const span *s, size_t i) { return i < s->e ? s->f[i] : 0; }
#define IS(fl, m) (((fl) & (m)) != 0)
#define OTHER(fl) ((fl) && !IS(fl, UF_SPACE | UF_LETTER | UF_NUMBER)) /* [^\s\p{L}\p{N}] */

/* 's|'t|'re|'ve|'m|'ll|'d, case-insensitive or not; returns its length or 0. */
static size_t contraction(const span *s, size_t pos, bool fold)
{
    if (s->c[pos] != '\'' || pos + 1 >= s->e) return 0;
    uint32_t a = s->c[pos + 1];
    if (fold) a = tok_cpt_tolower(a);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 >= s->e) return 0;
    uint32_t b = s->c[pos + 2];
    if (fold) b = tok_cpt_tolower(b);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* Trailing whitespace rules shared by the scanners: \s+(?!\S) then \s+ . */
static size_t spaces(const span *s, size_t pos)
{
    size_t k = 0;
    while (IS(fl_at(s, pos + k), UF_SPACE)) k++;
    if (k > 1 && pos + k < s->e) return k - 1;
    return k ? k : 1; /* no match at all: one code point on its own */
}

/* ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)' after the contractions */
static void split_gpt2(const span *s, lens *out)
{
    for (size_t pos = s->b; pos < s->e;) {
        size_t start = pos, k = contraction(s, pos, false);
        if (k) {
            emit(out, k);
            pos += k;
            continue;
        }
        uint32_t cp = s->c[pos];
        uint16_t f = cp == ' ' ? fl_at(s, pos + 1) : s->f[pos];
        uint16_t cls = IS(f, UF_LETTER) ? UF_LETTER : IS(f, UF_NUMBER) ? UF_NUMBER : 0;
        if (cls || OTHER(f)) {
            pos += cp == ' ';
            if (cls) while (IS(fl_at(s, pos), cls)) pos++;
            else while (OTHER(fl_at(s, pos))) pos++;
            emit(out, pos - start);
            continue;
        }
        pos += spaces(s, pos);
        emit(out, pos - start);
    }
}

/* Llama 3 (digits in threes) and Qwen 2 (single digits):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
 * \s*[\r\n]+|\s+(?!\S)|\s+ */
static void split_llama3(const span *s, lens *out, size_t max_digits)
{
    for (size_t pos = s->b; pos < s->e;) {
        size_t start = pos, k = contraction(s, pos, true);
        if (k) {
            emit(out, k);
            pos += k;
            continue;
        }
        uint32_t cp = s->c[pos];
        uint16_t f = s->f[pos];
        if (!(cp == '\r' || cp == '\n' || IS(f, UF_NUMBER)) && (IS(f, UF_LETTER) || IS(fl_at(s, pos + 1), UF_LETTER))) {
            pos++;
            while (IS(fl_at(s, pos), UF_LETTER)) pos++;
            emit(out, pos - start);
            continue;
        }
        if (IS(f, UF_NUMBER)) {
            size_t ini = pos;
            while (IS(fl_at(s, pos), UF_NUMBER)) {
                if (++pos - ini >= max_digits) {
                    emit(out, pos - ini);
                    ini = pos;
                }
            }
            emit(out, pos - ini);
            continue;
        }
        uint16_t f2 = cp == ' ' ? fl_at(s, pos + 1) : f;
        if (OTHER(f2) && f) {
            pos += cp == ' ';
            while (OTHER(fl_at(s, pos))) pos++;
            while (cp_at(s, pos) == '\r' || cp_at(s, pos) == '\n') pos++;
            emit(out, pos - start);
            continue;
        }
        size_t n = 0, last_nl = 0;
        while (IS(fl_at(s, pos + n), UF_SPACE)) {
            uint32_t c = s->c[pos + n];
            if (c == '\r' || c == '\n') last_nl = pos + n + 1;
            n++;
        }
        if (last_nl) {
            pos = last_nl;
        } else {
            pos += spaces(s, pos);
        }
        emit(out, pos - start);
    }
}

typedef struct regex_text {
    const uint8_t *bytes; /* collapsed: one byte per code point; UTF: UTF-8      */
    const size_t *cp_at;  /* UTF: byte offset -> code point index (NULL: same) */
    const size_t *byte_of;/* UTF: code point index -> byte offset             */
} regex_text;

static void split_regex(const stage *st, const regex_text *t, size_t b, size_t e, pcre2_match_data *md,
                        lens *out)
{
    size_t sb = t->byte_of ? t->byte_of[b] : b, se = t->byte_of ? t->byte_of[e] : e;
    const uint8_t *subj = t->bytes + sb;
    size_t len = se - sb, prev = 0, off = 0;
#define CPI(x) (t->cp_at ? t->cp_at[sb + (x)] - b : (x))
    while (off <= len) {
        int rc = pcre2_match(st->re, subj, len, off, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (ms > prev) emit(out, CPI(ms) - CPI(prev));
        if (me > ms) emit(out, CPI(me) - CPI(ms));
        prev = me;
        if (me > ms) {
            off = me;
        } else { /* empty match: step over one character */
            off = me + 1;
            while (t->cp_at && off < len && (subj[off] & 0xC0) == 0x80) off++;
        }
    }
    if (len > prev) emit(out, CPI(len) - CPI(prev));
#undef CPI
}

hearth_status tok_pretok_split(const tok_pretok *p, const uint32_t *cpts, size_t n, size_t **out,
                               size_t *n_out, hearth_error *err)
{
    *out = NULL;
    *n_out = 0;
    uint16_t *flags = malloc((n ? n : 1) * sizeof *flags);
    uint8_t *collapsed = NULL, *utf = NULL;
    size_t *cp_at = NULL, *byte_of = NULL;
    pcre2_match_data *md = NULL;
    lens cur = {0}, next = {0};
    hearth_status st = HEARTH_OK;
    if (!flags) goto oom;
    for (size_t i = 0; i < n; i++) flags[i] = tok_cpt_flags(cpts[i]);
    emit(&cur, n);
    for (int si = 0; si < p->n && !cur.oom; si++) {
        const stage *sg = &p->stages[si];
        regex_text rt = {0};
        if (sg->kind == ST_REGEX_COLLAPSED) {
            if (!collapsed) {
                if (!(collapsed = malloc(n + 1))) goto oom;
                for (size_t i = 0; i < n; i++)
                    collapsed[i] = cpts[i] < 128 ? (uint8_t)cpts[i]
                                   : IS(flags[i], UF_SPACE) ? 0x0B
                                                            : collapsed_byte(flags[i] & UF_CATEGORIES);
            }
            rt.bytes = collapsed;
        } else if (sg->kind == ST_REGEX_UTF) {
            if (!utf) { /* non-ASCII whitespace becomes \v, as llama.cpp does for std::wregex */
                if (!(utf = malloc(n * 4 + 1)) || !(cp_at = malloc((n * 4 + 1) * sizeof *cp_at)) ||
                    !(byte_of = malloc((n + 1) * sizeof *byte_of)))
                    goto oom;
                size_t k = 0;
                for (size_t i = 0; i < n; i++) {
                    uint32_t c = (cpts[i] > 0x7F && IS(flags[i], UF_SPACE)) ? 0x0B : cpts[i];
                    byte_of[i] = k;
                    size_t m = tok_utf8_encode(c, (char *)utf + k);
                    for (size_t j = 0; j < m; j++) cp_at[k + j] = i;
                    k += m;
                }
                byte_of[n] = k;
                cp_at[k] = n;
            }
            rt.bytes = utf, rt.cp_at = cp_at, rt.byte_of = byte_of;
        }
        if (rt.bytes && !md && !(md = pcre2_match_data_create(4, NULL))) goto oom;
        next.n = 0;
        size_t start = 0;
        for (size_t i = 0; i < cur.n; i++) {
            span s = {cpts, flags, start, start + cur.v[i]};
            switch (sg->kind) {
            case ST_GPT2: split_gpt2(&s, &next); break;
            case ST_LLAMA3: split_llama3(&s, &next, 3); break;
            case ST_QWEN2: split_llama3(&s, &next, 1); break;
            default: split_regex(sg, &rt, s.b, s.e, md, &next); break;
            }
            start = s.e;
        }
        if (next.oom) goto oom;
        lens t = cur;
        cur = next, next = t;
    }
    if (cur.oom) goto oom;
    *out = cur.v;
    *n_out = cur.n;
    cur.v = NULL;
    goto done;
oom:
    st = hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory pre-tokenizing");
done:
    free(flags);
    free(collapsed);
    free(utf);
    free(cp_at);
    free(byte_of);
    free(cur.v);
    free(next.v);
    pcre2_match_data_free(md);
    return st;
}
