//! The one table of mail commands: Dutch word, English alias, argument, who may use it, and
//! the procedure step it serves. The parser, the `#help` reply and the README's command
//! table are all generated from (or tested against) this table, so they cannot drift apart.

/// Which command (the table's key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Name {
    /// Assign the complaint to a staff member.
    Assign,
    /// Set the department.
    Department,
    /// Set the category.
    Category,
    /// Set the concerned person (optionally inform them).
    Concerns,
    /// Set the customer type.
    CustomerType,
    /// Classify as incident.
    Incident,
    /// Classify as structural problem (management is told).
    Structural,
    /// Record the root cause (body).
    Cause,
    /// Advice to the assignee (body).
    Advice,
    /// Explanation of the further procedure to the complainant (body).
    Explain,
    /// Propose a solution to the complainant (body).
    Solution,
    /// The complainant accepted.
    Accepted,
    /// The complainant rejected.
    Rejected,
    /// Register the solution and close; copies to all.
    Close,
    /// Reopen a closed complaint.
    Reopen,
    /// A note on the timeline (body).
    Note,
    /// Not a complaint after all.
    NotAComplaint,
    /// The complainant withdrew.
    Withdrawn,
    /// Move the solve deadline.
    Deadline,
    /// A recommendation to prevent new complaints (body).
    Recommendation,
    /// Reply with the complaint's state.
    Status,
    /// Reply with this table.
    Help,
    /// A phone note (staff).
    Phone,
    /// A scanned letter (staff).
    Letter,
    /// Solved at first contact (with a phone note or letter).
    Solved,
    /// Override the complainant of a forward.
    Customer,
    /// The annual report, mailed back.
    Report,
    /// A measure management decided on (body).
    Measure,
    /// Everything the register holds about an address, mailed back as a zip (AVG access).
    Access,
    /// Erase everything about an address, after a confirmation reply (AVG erasure).
    Erase,
}

/// What a command takes after its word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// Nothing.
    None,
    /// An e-mail address.
    Address,
    /// An e-mail address, optionally followed by `informeren`/`inform`.
    AddressAndChoice,
    /// Free text up to the next command.
    Text,
    /// `particulier|instelling|intern` (or English).
    CustomerType,
    /// A date (2026-12-24 or 24-12-2026) or a duration (14d, 10wd).
    DateOrDuration,
    /// A year, optional (default: the current one).
    Year,
    /// The text is the body of the mail (quotes and signature stripped).
    Body,
}

/// Who may use a command (the officers may use every one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Only the officers.
    Officer,
    /// The officers and the complaint's assignee.
    Assignee,
    /// The officers and staff (configured domains).
    Staff,
    /// The officers and management.
    Management,
    /// Anyone allowed to command at all (officers, staff, management, assignee).
    Anyone,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Key.
    pub name: Name,
    /// The Dutch word (without `#`).
    pub nl: &'static str,
    /// The English alias.
    pub en: &'static str,
    /// Extra accepted spellings.
    pub aliases: &'static [&'static str],
    /// Argument.
    pub arg: Arg,
    /// Who may use it.
    pub who: Who,
    /// Whether it needs an existing complaint (a reference in the subject or thread).
    pub needs_complaint: bool,
    /// The PROCEDURE.md step or officer task it serves.
    pub step: &'static str,
    /// One line of help, Dutch.
    pub help_nl: &'static str,
    /// One line of help, English.
    pub help_en: &'static str,
}

const fn spec(
    name: Name,
    nl: &'static str,
    en: &'static str,
    arg: Arg,
    who: Who,
    step: &'static str,
    help: (&'static str, &'static str),
) -> Spec {
    let needs_complaint = !matches!(
        name,
        Name::Phone
            | Name::Letter
            | Name::Solved
            | Name::Customer
            | Name::Report
            | Name::Help
            | Name::Measure
            | Name::Access
            | Name::Erase
            | Name::Recommendation
    );
    Spec {
        name,
        nl,
        en,
        aliases: &[],
        arg,
        who,
        needs_complaint,
        step,
        help_nl: help.0,
        help_en: help.1,
    }
}

/// Every command.
pub const COMMANDS: &[Spec] = &[
    spec(
        Name::Assign,
        "toewijzen",
        "assign",
        Arg::Address,
        Who::Officer,
        "stap 6",
        (
            "wijst de klacht toe aan een behandelaar (die krijgt de klacht; de klager krijgt de nadere uitleg)",
            "assigns the complaint to a staff member (who gets it; the complainant gets the explanation)",
        ),
    ),
    spec(
        Name::Department,
        "afdeling",
        "department",
        Arg::Text,
        Who::Officer,
        "stap 6",
        (
            "legt de afdeling of dienst vast",
            "records the department or service",
        ),
    ),
    spec(
        Name::Category,
        "categorie",
        "category",
        Arg::Text,
        Who::Officer,
        "taak 5",
        (
            "legt de categorie vast (voor de rapportage)",
            "records the category (for the report)",
        ),
    ),
    spec(
        Name::Concerns,
        "betrokkene",
        "concerns",
        Arg::AddressAndChoice,
        Who::Officer,
        "stap 6",
        (
            "legt de betrokkene vast; met 'informeren' krijgt die bericht",
            "records the concerned person; with 'inform' they are told",
        ),
    ),
    spec(
        Name::CustomerType,
        "klanttype",
        "customertype",
        Arg::CustomerType,
        Who::Officer,
        "stap 1",
        (
            "particulier, instelling of intern",
            "private, institution or internal",
        ),
    ),
    spec(
        Name::Incident,
        "incident",
        "incident",
        Arg::None,
        Who::Staff,
        "stap 4",
        ("classificeert als incident", "classifies as an incident"),
    ),
    spec(
        Name::Structural,
        "structureel",
        "structural",
        Arg::None,
        Who::Staff,
        "stap 4",
        (
            "classificeert als structureel probleem; de directie krijgt bericht",
            "classifies as a structural problem; management is told",
        ),
    ),
    spec(
        Name::Cause,
        "oorzaak",
        "cause",
        Arg::Body,
        Who::Assignee,
        "taak 2",
        (
            "legt de echte oorzaak vast (tekst in de mail)",
            "records the root cause (text in the mail)",
        ),
    ),
    spec(
        Name::Advice,
        "advies",
        "advice",
        Arg::Body,
        Who::Officer,
        "taak 4",
        (
            "advies aan de behandelaar, die het per mail krijgt (tekst in de mail)",
            "advice to the assignee, who gets it by mail (text in the mail)",
        ),
    ),
    spec(
        Name::Explain,
        "uitleg",
        "explain",
        Arg::Body,
        Who::Officer,
        "stap 5",
        (
            "stuurt de klager de nadere uitleg, met de tekst uit de mail",
            "sends the complainant the explanation, with the text of the mail",
        ),
    ),
    spec(
        Name::Solution,
        "oplossing",
        "solution",
        Arg::Body,
        Who::Assignee,
        "stap 7",
        (
            "stelt de klager een oplossing voor (tekst in de mail)",
            "proposes a solution to the complainant (text in the mail)",
        ),
    ),
    spec(
        Name::Accepted,
        "akkoord",
        "accepted",
        Arg::None,
        Who::Officer,
        "stap 8",
        (
            "de klager is akkoord met de oplossing",
            "the complainant accepted the solution",
        ),
    ),
    spec(
        Name::Rejected,
        "nietakkoord",
        "rejected",
        Arg::None,
        Who::Officer,
        "stap 8",
        (
            "de klager is niet akkoord: terug naar behandeling",
            "the complainant rejected: back to handling",
        ),
    ),
    spec(
        Name::Close,
        "afsluiten",
        "close",
        Arg::Body,
        Who::Officer,
        "stap 9",
        (
            "registreert de oplossing en sluit af; iedereen krijgt een afschrift",
            "registers the solution and closes; everyone gets a copy",
        ),
    ),
    spec(
        Name::Reopen,
        "heropenen",
        "reopen",
        Arg::None,
        Who::Officer,
        "stap 8",
        ("heropent een gesloten klacht", "reopens a closed complaint"),
    ),
    spec(
        Name::Note,
        "notitie",
        "note",
        Arg::Body,
        Who::Assignee,
        "taak 3",
        (
            "een notitie bij de klacht (tekst in de mail)",
            "a note on the complaint (text in the mail)",
        ),
    ),
    spec(
        Name::NotAComplaint,
        "geenklacht",
        "notacomplaint",
        Arg::None,
        Who::Officer,
        "stap 2",
        ("sluit af: geen klacht", "closes: not a complaint"),
    ),
    spec(
        Name::Withdrawn,
        "ingetrokken",
        "withdrawn",
        Arg::None,
        Who::Officer,
        "stap 8",
        (
            "sluit af: de klager trekt de klacht in",
            "closes: the complainant withdrew",
        ),
    ),
    spec(
        Name::Deadline,
        "termijn",
        "deadline",
        Arg::DateOrDuration,
        Who::Officer,
        "taak 3",
        (
            "verzet de oplostermijn: datum (2026-12-24) of duur (14d, 10wd)",
            "moves the solve deadline: a date (2026-12-24) or a duration (14d, 10wd)",
        ),
    ),
    spec(
        Name::Recommendation,
        "aanbeveling",
        "recommendation",
        Arg::Body,
        Who::Officer,
        "taak 6",
        (
            "een aanbeveling om klachten te voorkomen (tekst in de mail)",
            "a recommendation to prevent complaints (text in the mail)",
        ),
    ),
    spec(
        Name::Status,
        "status",
        "status",
        Arg::None,
        Who::Anyone,
        "taak 3",
        (
            "antwoordt met de stand van de klacht",
            "replies with the complaint's state",
        ),
    ),
    spec(
        Name::Help,
        "help",
        "help",
        Arg::None,
        Who::Anyone,
        "-",
        ("antwoordt met dit overzicht", "replies with this overview"),
    ),
    spec(
        Name::Phone,
        "telefoon",
        "phone",
        Arg::Body,
        Who::Staff,
        "stap 1",
        (
            "registreert een telefonische klacht (Naam:, E-mail:, Telefoon:, Organisatie:, Klant: in de mail)",
            "registers a complaint by phone (Naam:, E-mail:, Telefoon:, Organisatie:, Klant: in the mail)",
        ),
    ),
    spec(
        Name::Letter,
        "brief",
        "letter",
        Arg::Body,
        Who::Staff,
        "stap 1",
        (
            "registreert een klacht per brief (scan als bijlage, dezelfde regels)",
            "registers a complaint by letter (scan attached, the same lines)",
        ),
    ),
    spec(
        Name::Solved,
        "opgelost",
        "solved",
        Arg::None,
        Who::Staff,
        "stap 2",
        (
            "bij #telefoon of #brief: direct opgelost, registreren en sluiten",
            "with #phone or #letter: solved at first contact, register and close",
        ),
    ),
    spec(
        Name::Customer,
        "klant",
        "customer",
        Arg::Address,
        Who::Staff,
        "stap 1",
        (
            "bij een doorgestuurde mail: het adres van de klager",
            "with a forwarded mail: the complainant's address",
        ),
    ),
    spec(
        Name::Report,
        "rapport",
        "report",
        Arg::Year,
        Who::Management,
        "stap 10",
        (
            "stuurt de jaarrapportage (HTML en CSV) terug",
            "sends back the annual report (HTML and CSV)",
        ),
    ),
    spec(
        Name::Measure,
        "maatregel",
        "measure",
        Arg::Body,
        Who::Management,
        "stap 10",
        (
            "legt een besloten maatregel vast (tekst in de mail); #maatregel 3 uitgevoerd wijzigt de status (besloten, in uitvoering, uitgevoerd, vervallen)",
            "records a measure management decided on (text in the mail); #measure 3 done changes its status (decided, in progress, done, dropped)",
        ),
    ),
    spec(
        Name::Access,
        "inzage",
        "access",
        Arg::Address,
        Who::Officer,
        "AVG",
        (
            "stuurt u alles wat het register over dit adres bewaart (zip: klachten, mails, bijlagen, samenvatting)",
            "mails you everything the register holds about this address (zip: complaints, mails, attachments, summary)",
        ),
    ),
    spec(
        Name::Erase,
        "vergeten",
        "erase",
        Arg::Address,
        Who::Officer,
        "AVG",
        (
            "wist dit adres uit de afgesloten klachten, na uw bevestiging (antwoord op de bevestigingsmail)",
            "erases this address from the closed complaints, after you confirm (reply to the confirmation mail)",
        ),
    ),
];

/// Finds a command by its Dutch word, English alias or other spelling (case-insensitive).
pub fn lookup(word: &str) -> Option<&'static Spec> {
    let w = word.to_lowercase();
    COMMANDS
        .iter()
        .find(|s| s.nl == w || s.en == w || s.aliases.contains(&w.as_str()))
}

/// The spec of a command name.
pub fn spec_of(name: Name) -> &'static Spec {
    COMMANDS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or(&COMMANDS[0])
}

/// The `#help` text, generated from the table.
pub fn help(dutch: bool) -> String {
    let mut out = String::new();
    for s in COMMANDS {
        let arg = match s.arg {
            Arg::None | Arg::Body => "",
            Arg::Address => {
                if dutch {
                    " <adres>"
                } else {
                    " <address>"
                }
            }
            Arg::AddressAndChoice => {
                if dutch {
                    " <adres> [informeren]"
                } else {
                    " <address> [inform]"
                }
            }
            Arg::Text => {
                if dutch {
                    " <naam>"
                } else {
                    " <name>"
                }
            }
            Arg::CustomerType => " particulier|instelling|intern",
            Arg::DateOrDuration => {
                if dutch {
                    " <datum|duur>"
                } else {
                    " <date|duration>"
                }
            }
            Arg::Year => {
                if dutch {
                    " [jaar]"
                } else {
                    " [year]"
                }
            }
        };
        let line = if dutch {
            format!("#{}{arg} (#{}): {}\n", s.nl, s.en, s.help_nl)
        } else {
            format!("#{}{arg} (#{}): {}\n", s.en, s.nl, s.help_en)
        };
        out.push_str(&line);
    }
    out
}

/// The Markdown table of commands for the README (checked by a test against the README).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| command | alias | argument | who | step | what |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for s in COMMANDS {
        let arg = match s.arg {
            Arg::None => "",
            Arg::Body => "text in the body",
            Arg::Address => "address",
            Arg::AddressAndChoice => "address [informeren]",
            Arg::Text => "name",
            Arg::CustomerType => "particulier/instelling/intern",
            Arg::DateOrDuration => "date or duration",
            Arg::Year => "[year]",
        };
        let who = match s.who {
            Who::Officer => "officer",
            Who::Assignee => "officer, assignee",
            Who::Staff => "officer, staff",
            Who::Management => "officer, management",
            Who::Anyone => "officer, staff, management",
        };
        out.push_str(&format!(
            "| `#{}` | `#{}` | {arg} | {who} | {} | {} |\n",
            s.nl, s.en, s.step, s.help_en
        ));
    }
    out
}
