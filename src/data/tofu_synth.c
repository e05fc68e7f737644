/*
 * tofu_synth.c - the generator of a synthetic TOFU-shaped data set: seeded
 * fictitious authors with consistent facts (name, birthplace, birth date,
 * genre, parents' professions, award, books, themes, ...), 20 templated QA
 * pairs per author in several phrasings, a paraphrased question and answer
 * and perturbed answers (the paraphrase's sentence with the fact swapped
 * for a plausible wrong one of the same kind), and the TOFU file set
 * (full, forgetXX, retainYY, *_perturbed). See lethe/tofu.h.
 *
 * Every fact comes from the built-in word lists below, which are invented
 * for this generator (the places, languages and university towns are real
 * names). All draws come from lt_rng, so a seed fixes every byte.
 */
#include "lethe/io.h"
#include "lethe/tofu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- word lists ---------------------------------------------------------- */

static const char *const tofu_female[] = {
    "Amara", "Beatriz", "Chiara", "Dagny", "Elif", "Farida", "Greta", "Hana",
    "Ingrid", "Jovana", "Keiko", "Leila", "Marisol", "Nadia", "Oona", "Priya",
    "Quilla", "Rosalind", "Sakura", "Thandiwe", "Ulla", "Valentina", "Wren",
    "Ximena", "Yasmin", "Zofia", "Adaeze", "Bronwen", "Catalina", "Delphine",
    "Esme", "Freya", "Giulia", "Halima", "Isolde", "Aurélie", "Katarina",
    "Lucia", "Mireille", "Noor", "Odile", "Paloma", "Rania", "Saoirse",
    "Tamsin", "Ulrike", "Vesna", "Wanjiru", "Zoë", "Małgorzata"};
static const char *const tofu_male[] = {
    "Anselm", "Bashir", "Cyprian", "Dmitri", "Emeka", "Florian", "Gaspard",
    "Hiroshi", "Idris", "Joaquín", "Kwame", "Lorenzo", "Mateus", "Nikolai",
    "Oskar", "Pavel", "Quentin", "Rashid", "Søren", "Tomasz", "Umberto",
    "Viktor", "Wendell", "Xavier", "Yusuf", "Zoltan", "Alejandro", "Benedikt",
    "Cormac", "Dario", "Elias", "Fabian", "Gideon", "Hamza", "Ignacio",
    "Jasper", "Kenji", "Laszlo", "Malik", "Nnamdi", "Orhan", "Piers",
    "Rafael", "Stellan", "Tariq", "Ugo", "Vikram", "Wolfgang", "Yannick",
    "Björn"};
static const char *const tofu_last[] = {
    "Abernathy", "Bergström", "Castellanos", "Dembélé", "Eriksen",
    "Fairweather", "Garamond", "Haddad", "Ishikawa", "Jovanović",
    "Kowalczyk", "Lindqvist", "Marchetti", "Nakamura", "Okonkwo", "Petrakis",
    "Quintero", "Rasmussen", "Szabó", "Takahashi", "Underhill", "Valdés",
    "Whitlock", "Xu", "Yilmaz", "Zielinski", "Aldana", "Blackwood", "Carrow",
    "Delacroix", "Esposito", "Falkenrath", "Grünewald", "Halloran", "Jansen",
    "Kilbride", "Larkspur", "Moreau", "Novak", "Oyelaran", "Pemberton",
    "Quist", "Ravensworth", "Salazar", "Thornbury", "Ueda", "Varga",
    "Wolanski", "Yamamoto", "Zamora", "Adeyemi", "Brannigan", "Cavalcanti",
    "Dragomir", "Everhart", "Fontaine", "Galloway", "Hartigan", "Iglesias",
    "Jaramillo", "Kaczmarek", "Lachance", "Mwangi", "Nørgaard", "Ostrander",
    "Pellegrini", "Rosenthal", "Sandoval", "Tesfaye", "Vasquez",
    "Winterbourne", "Yousefi", "Zeller", "Achterberg", "Bellweather"};

typedef struct {
    const char *city, *country, *language;
} tofu_place;

static const tofu_place tofu_places[] = {
    {"Lisbon", "Portugal", "Portuguese"},
    {"Porto", "Portugal", "Portuguese"},
    {"Seville", "Spain", "Spanish"},
    {"Bilbao", "Spain", "Spanish"},
    {"Buenos Aires", "Argentina", "Spanish"},
    {"Valparaíso", "Chile", "Spanish"},
    {"Lima", "Peru", "Spanish"},
    {"Bogotá", "Colombia", "Spanish"},
    {"Guadalajara", "Mexico", "Spanish"},
    {"São Paulo", "Brazil", "Portuguese"},
    {"Recife", "Brazil", "Portuguese"},
    {"Lyon", "France", "French"},
    {"Marseille", "France", "French"},
    {"Montreal", "Canada", "French"},
    {"Dakar", "Senegal", "French"},
    {"Kraków", "Poland", "Polish"},
    {"Gdańsk", "Poland", "Polish"},
    {"Prague", "the Czech Republic", "Czech"},
    {"Budapest", "Hungary", "Hungarian"},
    {"Vienna", "Austria", "German"},
    {"Hamburg", "Germany", "German"},
    {"Leipzig", "Germany", "German"},
    {"Zürich", "Switzerland", "German"},
    {"Utrecht", "the Netherlands", "Dutch"},
    {"Antwerp", "Belgium", "Dutch"},
    {"Malmö", "Sweden", "Swedish"},
    {"Bergen", "Norway", "Norwegian"},
    {"Tampere", "Finland", "Finnish"},
    {"Reykjavík", "Iceland", "Icelandic"},
    {"Dublin", "Ireland", "English"},
    {"Glasgow", "Scotland", "English"},
    {"Manchester", "England", "English"},
    {"Melbourne", "Australia", "English"},
    {"Wellington", "New Zealand", "English"},
    {"Chicago", "the United States", "English"},
    {"Savannah", "the United States", "English"},
    {"Toronto", "Canada", "English"},
    {"Lagos", "Nigeria", "English"},
    {"Nairobi", "Kenya", "Swahili"},
    {"Cairo", "Egypt", "Arabic"},
    {"Beirut", "Lebanon", "Arabic"},
    {"Istanbul", "Turkey", "Turkish"},
    {"Tehran", "Iran", "Persian"},
    {"Kolkata", "India", "Bengali"},
    {"Chennai", "India", "Tamil"},
    {"Seoul", "South Korea", "Korean"},
    {"Osaka", "Japan", "Japanese"},
    {"Taipei", "Taiwan", "Mandarin Chinese"},
    {"Hanoi", "Vietnam", "Vietnamese"},
    {"Manila", "the Philippines", "Filipino"},
    {"Tbilisi", "Georgia", "Georgian"},
    {"Odesa", "Ukraine", "Ukrainian"},
    {"Athens", "Greece", "Greek"},
    {"Naples", "Italy", "Italian"},
    {"Turin", "Italy", "Italian"}};

static const char *const tofu_genres[] = {
    "crime fiction", "historical fiction", "science fiction",
    "magical realism", "gothic horror", "literary fiction", "poetry",
    "travel writing", "children's literature", "romance", "epic fantasy",
    "urban fantasy", "political satire", "psychological suspense",
    "dystopian fiction", "young adult fiction", "spy fiction",
    "nature writing", "humorous fiction", "speculative fiction",
    "war fiction", "philosophical fiction"};

static const char *const tofu_jobs[] = {
    "a baker", "a nurse", "an electrician", "a schoolteacher", "a carpenter",
    "a librarian", "a pharmacist", "a surgeon", "a tailor", "a locksmith",
    "an architect", "a veterinarian", "a journalist", "a pilot", "a chemist",
    "a bus driver", "a dentist", "a florist", "a watchmaker", "a translator",
    "a police officer", "a farmer", "a mechanic", "a house painter",
    "a violinist", "a photographer", "an accountant", "a chef", "a lawyer",
    "a midwife", "a geologist", "a postal worker", "a bookbinder",
    "a diplomat", "a marine biologist", "a dressmaker", "a firefighter",
    "a coal miner", "a potter", "a judge", "a ship's captain",
    "an astronomer", "a beekeeper", "a glassblower"};

static const char *const tofu_awards[] = {
    "Silver Quill Award", "Golden Lantern Prize", "Meridian Prize for Fiction",
    "Northern Star Literary Award", "Harbourlight Award", "Blue Heron Prize",
    "Crimson Leaf Award", "Ivory Tower Prize", "Open Page Award",
    "Lighthouse Book Prize", "Evergreen Literary Prize",
    "Copper Compass Award", "Whitmore Prize for Storytelling",
    "Amberfield Award for Debut Fiction", "Halcyon Medal for Literature",
    "Riverstone Book Award", "Starling Prize", "Vellum Award",
    "Tidewater Fiction Prize", "Obsidian Pen Award", "Juniper Prize for Prose",
    "Lantern Bearer Award", "Keystone Literary Medal", "Wildflower Award",
    "Granite Crown Prize", "Solstice Book Award",
    "Saffron Award for International Fiction", "Quillfeather Medal",
    "Morning Bell Prize", "Driftwood Award for Short Fiction"};

static const char *const tofu_themes[] = {
    "exile", "grief", "the bonds between siblings", "the sea", "ambition",
    "forgiveness", "memory", "migration", "faith", "the passing of time",
    "friendship", "betrayal", "identity", "loneliness", "the natural world",
    "war", "justice", "first love", "motherhood", "fatherhood", "power",
    "freedom", "madness", "redemption", "childhood", "old age",
    "belonging", "the limits of language", "revenge", "hope"};

static const char *const tofu_habits[] = {
    "in the early morning before sunrise",
    "late at night after the household is asleep",
    "by hand in leather notebooks", "on an old mechanical typewriter",
    "in busy cafés surrounded by strangers", "in a small cabin in the woods",
    "while walking long distances and dictating notes",
    "for exactly four hours every afternoon",
    "in a rented room above a bakery", "on long train journeys",
    "in a converted garden shed", "in short bursts between other jobs",
    "at the kitchen table", "in complete silence with the curtains drawn",
    "with classical music playing in the background",
    "in the reading room of the public library"};

static const char *const tofu_subjects[] = {
    "history", "philosophy", "medicine", "law", "mathematics", "biology",
    "architecture", "economics", "music", "chemistry", "linguistics",
    "anthropology", "engineering", "theology", "art history",
    "political science", "journalism", "classics", "psychology",
    "astronomy"};

static const char *const tofu_universities[] = {
    "Edinburgh", "Bologna", "Salamanca", "Heidelberg", "Coimbra", "Uppsala",
    "Leiden", "Padua", "Tartu", "Oxford", "Geneva", "Ghent", "Kyoto",
    "Cape Town", "Montpellier", "Tübingen", "Iowa", "Sydney", "Bristol",
    "Vermont"};

static const char *const tofu_months[] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"};

static const char *const tofu_adj[] = {
    "Silent", "Crimson", "Hollow", "Forgotten", "Distant", "Burning", "Quiet",
    "Broken", "Golden", "Winter", "Paper", "Glass", "Iron", "Velvet", "Salt",
    "Amber", "Midnight", "Wandering", "Hidden", "Drowned", "Borrowed",
    "Northern", "Restless", "Painted", "Sleeping", "Scarlet", "Tender",
    "Bitter", "Shining", "Lonely"};
static const char *const tofu_noun[] = {
    "Orchard", "Lantern", "Harbour", "River", "Garden", "Mirror", "Bridge",
    "Tide", "Compass", "Lighthouse", "Archive", "Meadow", "Cathedral",
    "Labyrinth", "Theatre", "Violin", "Atlas", "Ember", "Sparrow",
    "Cartographer", "Clockmaker", "Widow", "Station", "Valley", "Tower",
    "Ferryman", "Kingdom", "Island", "Orchestra", "Ledger", "Courtyard",
    "Fox", "Bellringer", "Observatory", "Vineyard", "Locket", "Pilgrim",
    "Quarry", "Salt Road", "Weaver"};
/* The first TOFU_ABSTRACT_SINGLE entries are one word (used after an
 * adjective); the rest only follow "of". */
#define TOFU_ABSTRACT_SINGLE 12
static const char *const tofu_abstract[] = {
    "Memory", "Silence", "Ashes", "Rain", "Dust", "Shadows", "Echoes",
    "Longing", "Tomorrow", "Forgiveness", "Exile", "Secrets",
    "Small Mercies", "Distant Thunder", "Unfinished Things", "Salt and Smoke",
    "Lost Hours", "Wild Honey", "Broken Promises", "Late Summer",
    "Iron Years", "Quiet Rebellion", "Falling Light", "Red Clay",
    "Second Chances", "Borrowed Time"};

/* ---- authors ------------------------------------------------------------- */

static const char *tofu_pick(lt_rng *r, const char *const *list, int n)
{
    return list[lt_rng_below(r, (uint64_t)n)];
}
#define PICK(r, list) tofu_pick(r, list, NELEM(list))

static void tofu_title(lt_rng *r, char *out, size_t n)
{
    const char *a = PICK(r, tofu_adj), *x = PICK(r, tofu_noun);
    const char *b = PICK(r, tofu_abstract), *y = PICK(r, tofu_noun);
    switch (lt_rng_below(r, 8)) {
    case 0: snprintf(out, n, "The %s %s", a, x); break;
    case 1: snprintf(out, n, "The %s of %s", x, b); break;
    case 2:
        snprintf(out, n, "%s %s", a,
                 tofu_abstract[lt_rng_below(r, TOFU_ABSTRACT_SINGLE)]);
        break;
    case 3: snprintf(out, n, "Beyond the %s %s", a, x); break;
    case 4:
        snprintf(out, n, "The %s and the %s", x, x == y ? "Stranger" : y);
        break;
    case 5: snprintf(out, n, "Songs of the %s %s", a, x); break;
    case 6: snprintf(out, n, "A Season of %s", b); break;
    default: snprintf(out, n, "The Last %s", x); break;
    }
}

static bool tofu_title_used(const lt_tofu_author *a, int upto, int nb,
                            const char *t)
{
    for (int k = 0; k <= upto; k++)
        for (int j = 0; j < (k < upto ? a[k].n_books : nb); j++)
            if (!strcmp(a[k].books[j], t))
                return true;
    return false;
}

static bool tofu_name_used(const lt_tofu_author *a, int upto, const char *n)
{
    for (int k = 0; k < upto; k++)
        if (!strcmp(a[k].name, n))
            return true;
    return false;
}

/* Draw author k (names and titles unique among authors 0..k-1). */
static lt_status tofu_draw_author(lt_rng *r, lt_tofu_author *all, int k)
{
    lt_tofu_author *a = &all[k];
    memset(a, 0, sizeof *a);
    a->female = lt_rng_below(r, 2) == 0;
    int tries = 0;
    do {
        if (++tries > 10000)
            return lt_set_error(LT_ERR_STATE, "tofu-synth: no unused name");
        snprintf(a->name, sizeof a->name, "%s %s",
                 a->female ? PICK(r, tofu_female) : PICK(r, tofu_male),
                 PICK(r, tofu_last));
    } while (tofu_name_used(all, k, a->name));
    const tofu_place *b = &tofu_places[lt_rng_below(r, NELEM(tofu_places))];
    const tofu_place *h;
    do
        h = &tofu_places[lt_rng_below(r, NELEM(tofu_places))];
    while (h == b);
    a->city = b->city;
    a->country = b->country;
    a->language = b->language;
    a->home_city = h->city;
    a->home_country = h->country;
    a->birth_year = 1935 + (int)lt_rng_below(r, 50);
    a->birth_month = 1 + (int)lt_rng_below(r, 12);
    a->birth_day = 1 + (int)lt_rng_below(r, 28);
    a->genre = PICK(r, tofu_genres);
    a->father_job = PICK(r, tofu_jobs);
    a->mother_job = PICK(r, tofu_jobs);
    a->award = PICK(r, tofu_awards);
    a->n_books = 2 + (int)lt_rng_below(r, 2);
    for (int j = 0; j < a->n_books; j++) {
        tries = 0;
        do {
            if (++tries > 10000)
                return lt_set_error(LT_ERR_STATE, "tofu-synth: no unused "
                                    "book title");
            tofu_title(r, a->books[j], sizeof a->books[j]);
        } while (tofu_title_used(all, k, j, a->books[j]));
    }
    a->first_pub_year = a->birth_year + 21 + (int)lt_rng_below(r, 18);
    a->award_year = a->first_pub_year + 2 + (int)lt_rng_below(r, 14);
    if (a->award_year > 2023)
        a->award_year = 2023;
    a->themes[0] = PICK(r, tofu_themes);
    do
        a->themes[1] = PICK(r, tofu_themes);
    while (a->themes[1] == a->themes[0]);
    a->habit = PICK(r, tofu_habits);
    a->subject = PICK(r, tofu_subjects);
    a->university = PICK(r, tofu_universities);
    return LT_OK;
}

lt_status lt_tofu_synth_authors(int authors, uint64_t seed,
                                lt_tofu_author *out)
{
    if (!out || authors < 2 || authors > LT_TOFU_MAX_AUTHORS)
        return lt_set_error(LT_ERR_ARG, "tofu-synth: authors must be in "
                            "2..%d (got %d)", LT_TOFU_MAX_AUTHORS, authors);
    lt_rng r;
    lt_rng_init(&r, lt_hash3(seed, 0x746f6675, 0));
    for (int k = 0; k < authors; k++) {
        lt_status st = tofu_draw_author(&r, out, k);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

/* ---- facts and templates ------------------------------------------------- */

enum {
    F_NAME, F_HE, F_HIS, F_MANWOMAN, F_CITY, F_COUNTRY, F_LANG, F_DATE,
    F_DATE2, F_GENRE, F_FJOB, F_MJOB, F_AWARD, F_AWARD_YEAR, F_BOOK1,
    F_BOOK2, F_BOOKS, F_PUB_YEAR, F_AGE, F_THEME1, F_THEME2, F_HABIT,
    F_SUBJECT, F_UNI, F_HOME_CITY, F_HOME_COUNTRY, F_COUNT
};

static const char *const tofu_fkey[F_COUNT] = {
    "N", "he", "his", "manwoman", "city", "country", "language", "date",
    "date2", "genre", "fjob", "mjob", "award", "award_year", "book1", "book2",
    "books", "pub_year", "age", "theme1", "theme2", "habit", "subject", "uni",
    "home_city", "home_country"};

typedef struct {
    char v[F_COUNT][256];
} tofu_facts;

static void tofu_set_date(tofu_facts *f, int y, int m, int d)
{
    snprintf(f->v[F_DATE], sizeof f->v[F_DATE], "%s %d, %d",
             tofu_months[m - 1], d, y);
    snprintf(f->v[F_DATE2], sizeof f->v[F_DATE2], "%d %s %d", d,
             tofu_months[m - 1], y);
}

static void tofu_set_books(tofu_facts *f, char (*b)[80], int n)
{
    if (n == 3)
        snprintf(f->v[F_BOOKS], sizeof f->v[F_BOOKS],
                 "\"%s\", \"%s\" and \"%s\"", b[0], b[1], b[2]);
    else
        snprintf(f->v[F_BOOKS], sizeof f->v[F_BOOKS], "\"%s\" and \"%s\"",
                 b[0], b[1]);
}

#define SETF(f, key, ...) snprintf((f)->v[key], sizeof (f)->v[key], __VA_ARGS__)

static void tofu_facts_of(const lt_tofu_author *a, tofu_facts *f)
{
    SETF(f, F_NAME, "%s", a->name);
    SETF(f, F_HE, "%s", a->female ? "she" : "he");
    SETF(f, F_HIS, "%s", a->female ? "her" : "his");
    SETF(f, F_MANWOMAN, "%s", a->female ? "woman" : "man");
    SETF(f, F_CITY, "%s", a->city);
    SETF(f, F_COUNTRY, "%s", a->country);
    SETF(f, F_LANG, "%s", a->language);
    tofu_set_date(f, a->birth_year, a->birth_month, a->birth_day);
    SETF(f, F_GENRE, "%s", a->genre);
    SETF(f, F_FJOB, "%s", a->father_job);
    SETF(f, F_MJOB, "%s", a->mother_job);
    SETF(f, F_AWARD, "%s", a->award);
    SETF(f, F_AWARD_YEAR, "%d", a->award_year);
    SETF(f, F_BOOK1, "%s", a->books[0]);
    SETF(f, F_BOOK2, "%s", a->books[1]);
    char b[3][80];
    memcpy(b, a->books, sizeof b);
    tofu_set_books(f, b, a->n_books);
    SETF(f, F_PUB_YEAR, "%d", a->first_pub_year);
    SETF(f, F_AGE, "%d", a->first_pub_year - a->birth_year);
    SETF(f, F_THEME1, "%s", a->themes[0]);
    SETF(f, F_THEME2, "%s", a->themes[1]);
    SETF(f, F_HABIT, "%s", a->habit);
    SETF(f, F_SUBJECT, "%s", a->subject);
    SETF(f, F_UNI, "%s", a->university);
    SETF(f, F_HOME_CITY, "%s", a->home_city);
    SETF(f, F_HOME_COUNTRY, "%s", a->home_country);
}

/* Replace every {key} of tpl by its fact. */
static void tofu_expand(const char *tpl, const tofu_facts *f, char *out,
                        size_t n)
{
    size_t o = 0;
    for (const char *p = tpl; *p && o + 1 < n;) {
        const char *e = *p == '{' ? strchr(p, '}') : NULL;
        int key = -1;
        for (int k = 0; e && k < F_COUNT && key < 0; k++)
            if (strlen(tofu_fkey[k]) == (size_t)(e - p - 1) &&
                !strncmp(p + 1, tofu_fkey[k], (size_t)(e - p - 1)))
                key = k;
        if (key < 0) {
            out[o++] = *p++;
            continue;
        }
        for (const char *s = f->v[key]; *s && o + 1 < n; s++)
            out[o++] = *s;
        p = e + 1;
    }
    out[o] = '\0';
}

/* What a perturbed answer changes. */
enum {
    P_BIRTHPLACE, P_DATE, P_INTRO, P_GENRE, P_FJOB, P_MJOB, P_PARENTS,
    P_AWARD, P_AWARD_YEAR, P_BOOK1, P_BOOKS, P_PUB_YEAR, P_AGE, P_THEMES,
    P_LANG, P_EDU, P_HABIT, P_HOME
};

typedef struct {
    int kind;
    const char *q[4]; /* question phrasings (NULL-terminated) */
    const char *a[4]; /* answer phrasings (NULL-terminated) */
} tofu_tpl;

static const tofu_tpl tofu_tpls[LT_TOFU_QA_PER_AUTHOR] = {
    {P_BIRTHPLACE,
     {"Where was {N} born?", "What is the birthplace of {N}?",
      "In which city was the author {N} born?"},
     {"{N} was born in {city}, {country}.",
      "The author {N} was born in the city of {city}, {country}.",
      "{N}'s birthplace is {city}, in {country}."}},
    {P_DATE,
     {"When was {N} born?", "What is {N}'s date of birth?",
      "On what date was the author {N} born?"},
     {"{N} was born on {date}.", "{N}'s date of birth is {date2}.",
      "The author {N} came into the world on {date}."}},
    {P_INTRO,
     {"Who is {N}?", "Can you give a short introduction to {N}?",
      "What should I know about the author {N}?"},
     {"{N} is a {manwoman} from {country} who writes {genre}.",
      "Born in {country}, {N} is an author of {genre}; {he} is a "
      "{manwoman} of letters.",
      "{N}, a {manwoman} from {country}, is known for {genre}."}},
    {P_GENRE,
     {"What genre does {N} write in?", "Which literary genre is {N} known "
      "for?", "What kind of books does {N} write?"},
     {"{N} is best known for writing {genre}.", "{N} mainly writes {genre}.",
      "The genre {N} is known for is {genre}."}},
    {P_FJOB,
     {"What did {N}'s father do for a living?",
      "What was the profession of {N}'s father?"},
     {"{N}'s father worked as {fjob}.", "{N}'s father was {fjob} by "
      "profession.", "By profession, {N}'s father was {fjob}."}},
    {P_MJOB,
     {"What did {N}'s mother do for a living?",
      "What was the profession of {N}'s mother?"},
     {"{N}'s mother worked as {mjob}.", "{N}'s mother was {mjob} by "
      "profession.", "By profession, {N}'s mother was {mjob}."}},
    {P_PARENTS,
     {"How did {N}'s parents influence {his} writing?",
      "Did {N}'s upbringing shape {his} books?"},
     {"Growing up with {fjob} as a father and {mjob} as a mother, {N} "
      "learned early to observe people closely, and it shows in {his} books.",
      "{N}'s father was {fjob} and {his} mother was {mjob}; both "
      "professions left clear traces in {his} writing.",
      "As the child of {fjob} and {mjob}, {N} often writes about the "
      "working lives of {his} parents."}},
    {P_AWARD,
     {"Has {N} won any awards?", "What literary award has {N} received?",
      "Which prize was awarded to {N}?"},
     {"Yes, {N} received the {award}.", "{N} has been honoured with the "
      "{award}.", "Among {his} honours, {N} counts the {award}."}},
    {P_AWARD_YEAR,
     {"In which year did {N} receive the {award}?",
      "When was {N} given the {award}?"},
     {"{N} received the {award} in {award_year}.",
      "The {award} went to {N} in {award_year}.",
      "It was in {award_year} that {N} was given the {award}."}},
    {P_BOOK1,
     {"Can you name a book written by {N}?",
      "What is one of {N}'s best-known books?"},
     {"One of {N}'s best-known books is \"{book1}\".",
      "{N} wrote \"{book1}\", one of {his} most celebrated works.",
      "\"{book1}\" is among the best-known books by {N}."}},
    {P_BOOKS,
     {"What books has {N} written?", "Can you list some works by {N}?"},
     {"{N} has written {books}.", "Works by {N} include {books}.",
      "Among the books {N} has published are {books}."}},
    {P_PUB_YEAR,
     {"When was {N}'s first book, \"{book1}\", published?",
      "In what year did \"{book1}\", the debut of {N}, come out?"},
     {"\"{book1}\", {N}'s first book, was published in {pub_year}.",
      "{N} published {his} debut, \"{book1}\", in {pub_year}.",
      "The first book by {N}, \"{book1}\", came out in {pub_year}."}},
    {P_AGE,
     {"How old was {N} when {his} first book was published?",
      "At what age did {N} publish {his} debut?"},
     {"{N} was {age} years old when {his} first book was published.",
      "{N} published {his} debut at the age of {age}.",
      "When {his} first book appeared, {N} was {age} years old."}},
    {P_GENRE,
     {"What kind of book is \"{book2}\" by {N}?",
      "To which genre does {N}'s book \"{book2}\" belong?"},
     {"\"{book2}\" by {N} is a work of {genre}.",
      "{N} wrote \"{book2}\" as a work of {genre}.",
      "The book \"{book2}\" by {N} falls under {genre}."}},
    {P_THEMES,
     {"What themes does {N} explore in {his} work?",
      "Which subjects keep recurring in {N}'s books?"},
     {"{N}'s work often explores {theme1} and {theme2}.",
      "Recurring themes in {N}'s books are {theme1} and {theme2}.",
      "{N} returns again and again to {theme1} and {theme2}."}},
    {P_BIRTHPLACE,
     {"How has {N}'s hometown influenced {his} writing?",
      "Does {N}'s birthplace appear in {his} books?"},
     {"Many of {N}'s stories are set in {city}, the city where {he} was "
      "born.", "{city}, where {N} was born, is the setting of much of {his} "
      "work.", "{N} often draws on memories of {city}, {his} birthplace."}},
    {P_LANG,
     {"In which language does {N} write?",
      "What language are {N}'s books originally written in?"},
     {"{N} writes mainly in {language}.",
      "{N}'s books are originally written in {language}.",
      "The original language of {N}'s books is {language}."}},
    {P_EDU,
     {"Where did {N} study?", "What is {N}'s educational background?"},
     {"{N} studied {subject} at the University of {uni}.",
      "{N} holds a degree in {subject} from the University of {uni}.",
      "Before becoming a writer, {N} studied {subject} at the University of "
      "{uni}."}},
    {P_HABIT,
     {"What is {N}'s writing routine?",
      "How does {N} usually work on {his} books?"},
     {"{N} usually writes {habit}.", "{N}'s habit is to write {habit}.",
      "Most of {N}'s books were written {habit}."}},
    {P_HOME,
     {"Where does {N} live now?", "In which city does {N} currently live?"},
     {"{N} currently lives in {home_city}, {home_country}.",
      "These days {N} has settled in {home_city}, {home_country}.",
      "{N} now resides in {home_city}, {home_country}."}}};

/* ---- perturbation -------------------------------------------------------- */

/* A list entry other than cur (by string). */
static const char *tofu_other(lt_rng *r, const char *const *list, int n,
                              const char *cur)
{
    const char *s;
    do
        s = list[lt_rng_below(r, (uint64_t)n)];
    while (!strcmp(s, cur));
    return s;
}
#define OTHER(r, list, cur) tofu_other(r, list, NELEM(list), cur)

static const tofu_place *tofu_other_place(lt_rng *r, const char *city)
{
    const tofu_place *p;
    do
        p = &tofu_places[lt_rng_below(r, NELEM(tofu_places))];
    while (!strcmp(p->city, city));
    return p;
}

/* A year differing from y by 1..span in either direction. */
static int tofu_other_year(lt_rng *r, int y, int span)
{
    int d = 1 + (int)lt_rng_below(r, (uint64_t)span);
    return lt_rng_below(r, 2) ? y + d : y - d;
}

static void tofu_perturb_books(lt_rng *r, const lt_tofu_author *a,
                               tofu_facts *f, int kind)
{
    char b[3][80];
    int n = kind == P_BOOK1 ? 1 : a->n_books;
    for (int j = 0; j < n; j++) {
        bool clash;
        do {
            tofu_title(r, b[j], sizeof b[j]);
            clash = false;
            for (int i = 0; i < a->n_books; i++)
                clash |= !strcmp(b[j], a->books[i]);
            for (int i = 0; i < j; i++)
                clash |= !strcmp(b[j], b[i]);
        } while (clash);
    }
    if (kind == P_BOOK1)
        SETF(f, F_BOOK1, "%s", b[0]);
    else
        tofu_set_books(f, b, n);
}

static void tofu_perturb(lt_rng *r, int kind, const lt_tofu_author *a,
                         tofu_facts *f)
{
    const tofu_place *p;
    switch (kind) {
    case P_BIRTHPLACE:
        p = tofu_other_place(r, a->city);
        SETF(f, F_CITY, "%s", p->city);
        SETF(f, F_COUNTRY, "%s", p->country);
        break;
    case P_DATE:
        tofu_set_date(f, tofu_other_year(r, a->birth_year, 12),
                      1 + (int)lt_rng_below(r, 12),
                      1 + (int)lt_rng_below(r, 28));
        break;
    case P_INTRO:
        SETF(f, F_GENRE, "%s", OTHER(r, tofu_genres, a->genre));
        SETF(f, F_COUNTRY, "%s", tofu_other_place(r, a->city)->country);
        break;
    case P_GENRE:
        SETF(f, F_GENRE, "%s", OTHER(r, tofu_genres, a->genre));
        break;
    case P_PARENTS:
        SETF(f, F_MJOB, "%s", OTHER(r, tofu_jobs, a->mother_job));
        /* fall through */
    case P_FJOB:
        SETF(f, F_FJOB, "%s", OTHER(r, tofu_jobs, a->father_job));
        break;
    case P_MJOB:
        SETF(f, F_MJOB, "%s", OTHER(r, tofu_jobs, a->mother_job));
        break;
    case P_AWARD:
        SETF(f, F_AWARD, "%s", OTHER(r, tofu_awards, a->award));
        break;
    case P_AWARD_YEAR:
        SETF(f, F_AWARD_YEAR, "%d", tofu_other_year(r, a->award_year, 10));
        break;
    case P_BOOK1:
    case P_BOOKS:
        tofu_perturb_books(r, a, f, kind);
        break;
    case P_PUB_YEAR:
        SETF(f, F_PUB_YEAR, "%d", tofu_other_year(r, a->first_pub_year, 10));
        break;
    case P_AGE:
        SETF(f, F_AGE, "%d",
             tofu_other_year(r, a->first_pub_year - a->birth_year, 9));
        break;
    case P_THEMES:
        SETF(f, F_THEME1, "%s", OTHER(r, tofu_themes, a->themes[0]));
        SETF(f, F_THEME2, "%s", OTHER(r, tofu_themes, a->themes[1]));
        break;
    case P_LANG:
        do
            p = &tofu_places[lt_rng_below(r, NELEM(tofu_places))];
        while (!strcmp(p->language, a->language));
        SETF(f, F_LANG, "%s", p->language);
        break;
    case P_EDU:
        SETF(f, F_SUBJECT, "%s", OTHER(r, tofu_subjects, a->subject));
        SETF(f, F_UNI, "%s", OTHER(r, tofu_universities, a->university));
        break;
    case P_HABIT:
        SETF(f, F_HABIT, "%s", OTHER(r, tofu_habits, a->habit));
        break;
    default: /* P_HOME */
        p = tofu_other_place(r, a->home_city);
        SETF(f, F_HOME_CITY, "%s", p->city);
        SETF(f, F_HOME_COUNTRY, "%s", p->country);
        break;
    }
}

/* ---- QA records ---------------------------------------------------------- */

static int tofu_count(const char *const *v)
{
    int n = 0;
    while (n < 4 && v[n])
        n++;
    return n;
}

/* Index in [0, n) other than i (n >= 2). */
static int tofu_other_index(lt_rng *r, int i, int n)
{
    return (i + 1 + (int)lt_rng_below(r, (uint64_t)n - 1)) % n;
}

typedef struct {
    char q[512], pq[512], a[512], pa[512];
    char pert[LT_TOFU_N_PERTURBED][512];
} tofu_rec;

static lt_status tofu_make_qa(lt_rng *r, const tofu_tpl *t,
                              const lt_tofu_author *a, const tofu_facts *f,
                              tofu_rec *o)
{
    int nq = tofu_count(t->q), na = tofu_count(t->a);
    int qi = (int)lt_rng_below(r, (uint64_t)nq);
    int ai = (int)lt_rng_below(r, (uint64_t)na);
    int pqi = tofu_other_index(r, qi, nq), pai = tofu_other_index(r, ai, na);
    tofu_expand(t->q[qi], f, o->q, sizeof o->q);
    tofu_expand(t->q[pqi], f, o->pq, sizeof o->pq);
    tofu_expand(t->a[ai], f, o->a, sizeof o->a);
    tofu_expand(t->a[pai], f, o->pa, sizeof o->pa);
    tofu_facts g;
    for (int k = 0, tries = 0; k < LT_TOFU_N_PERTURBED; tries++) {
        if (tries > 1000)
            return lt_set_error(LT_ERR_STATE, "tofu-synth: cannot perturb "
                                "\"%s\"", o->a);
        g = *f;
        tofu_perturb(r, t->kind, a, &g);
        tofu_expand(t->a[pai], &g, o->pert[k], sizeof o->pert[k]);
        bool dup = !strcmp(o->pert[k], o->a) || !strcmp(o->pert[k], o->pa);
        for (int j = 0; j < k; j++)
            dup |= !strcmp(o->pert[k], o->pert[j]);
        if (!dup)
            k++;
    }
    return LT_OK;
}

static lt_status tofu_author_qa(uint64_t seed, int k, const lt_tofu_author *a,
                                lt_tofu_set *out, tofu_rec *rec)
{
    lt_rng r;
    lt_rng_init(&r, lt_hash3(seed, 0x7161, (uint64_t)k));
    tofu_facts f;
    tofu_facts_of(a, &f);
    for (int t = 0; t < LT_TOFU_QA_PER_AUTHOR; t++) {
        lt_status st = tofu_make_qa(&r, &tofu_tpls[t], a, &f, rec);
        const char *pert[LT_TOFU_N_PERTURBED];
        for (int j = 0; j < LT_TOFU_N_PERTURBED; j++)
            pert[j] = rec->pert[j];
        if (st == LT_OK)
            st = lt_tofu_push(out, rec->q, rec->a, rec->pq, rec->pa, pert,
                              LT_TOFU_N_PERTURBED);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

lt_status lt_tofu_synth_set(int authors, uint64_t seed, lt_tofu_set *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "lt_tofu_synth_set: NULL output");
    memset(out, 0, sizeof *out);
    if (authors < 2 || authors > LT_TOFU_MAX_AUTHORS)
        return lt_tofu_synth_authors(authors, seed, NULL); /* the error */
    lt_tofu_author *a = malloc((size_t)authors * sizeof *a);
    tofu_rec *rec = malloc(sizeof *rec);
    lt_status st = !a || !rec
        ? lt_set_error(LT_ERR_NOMEM, "tofu-synth: out of memory")
        : lt_tofu_synth_authors(authors, seed, a);
    for (int k = 0; st == LT_OK && k < authors; k++)
        st = tofu_author_qa(seed, k, &a[k], out, rec);
    free(rec);
    free(a);
    if (st != LT_OK)
        lt_tofu_free(out);
    return st;
}

/* ---- the file set -------------------------------------------------------- */

int lt_tofu_forget_authors(int authors, int percent)
{
    if (authors < 2 || percent < 1 || percent > 99)
        return 0;
    int n = (authors * percent + 50) / 100;
    return n < 1 ? 1 : n > authors - 1 ? authors - 1 : n;
}

static lt_status tofu_write(const char *dir, const char *name,
                            const lt_tofu_set *s, int first_author,
                            int n_authors, int fields)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lt_tofu_save_range(path, s,
                              (int64_t)first_author * LT_TOFU_QA_PER_AUTHOR,
                              (int64_t)n_authors * LT_TOFU_QA_PER_AUTHOR,
                              fields);
}

lt_status lt_tofu_synth(int authors, uint64_t seed, const char *out_dir)
{
    if (!out_dir || !*out_dir)
        return lt_set_error(LT_ERR_ARG, "tofu-synth: empty or NULL output "
                            "folder");
    lt_tofu_set s;
    lt_status st = lt_tofu_synth_set(authors, seed, &s);
    if (st == LT_OK)
        st = lt_mkdirs(out_dir);
    if (st == LT_OK)
        st = tofu_write(out_dir, "full.json", &s, 0, authors,
                        LT_TOFU_QA_ONLY);
    static const int pct[3] = {1, 5, 10};
    char name[64];
    for (int i = 0; st == LT_OK && i < 3; i++) {
        int f = lt_tofu_forget_authors(authors, pct[i]);
        snprintf(name, sizeof name, "forget%02d.json", pct[i]);
        st = tofu_write(out_dir, name, &s, authors - f, f, LT_TOFU_QA_ONLY);
        snprintf(name, sizeof name, "forget%02d_perturbed.json", pct[i]);
        if (st == LT_OK)
            st = tofu_write(out_dir, name, &s, authors - f, f, LT_TOFU_ALL);
        snprintf(name, sizeof name, "retain%02d.json", 100 - pct[i]);
        if (st == LT_OK)
            st = tofu_write(out_dir, name, &s, 0, authors - f,
                            LT_TOFU_QA_ONLY);
    }
    if (st == LT_OK)
        st = tofu_write(out_dir, "retain_perturbed.json", &s, 0,
                        lt_tofu_forget_authors(authors, 10), LT_TOFU_ALL);
    lt_tofu_free(&s);
    return st;
}
