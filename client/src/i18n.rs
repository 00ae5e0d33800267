//! Every string the user sees. German is built in; the other languages are JSON files
//! (`client/lang/<code>.json`, entries named by [`Key`]) that the relay serves and the app
//! loads only when someone chooses that language, so the start of the app does not grow with
//! each language. Components never hold text of their own; they ask [`t`] or [`tf`].

use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    De,
    En,
    Ar,
    Tr,
    Uk,
    Ru,
    Fa,
    Pl,
}

impl Lang {
    pub const ALL: [Lang; 8] = [
        Lang::De,
        Lang::En,
        Lang::Ar,
        Lang::Tr,
        Lang::Uk,
        Lang::Ru,
        Lang::Fa,
        Lang::Pl,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::Tr => "tr",
            Lang::Uk => "uk",
            Lang::Ru => "ru",
            Lang::Fa => "fa",
            Lang::Pl => "pl",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The language's own name, so people find theirs whatever is selected.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
            Lang::Ar => "العربية",
            Lang::Tr => "Türkçe",
            Lang::Uk => "Українська",
            Lang::Ru => "Русский",
            Lang::Fa => "فارسی",
            Lang::Pl => "Polski",
        }
    }

    /// An offer to switch, in the language offered: shown before its strings are loaded.
    pub fn offer(self) -> &'static str {
        match self {
            Lang::De => "Auf Deutsch lesen",
            Lang::En => "Read in English",
            Lang::Ar => "اقرأ بالعربية",
            Lang::Tr => "Türkçe oku",
            Lang::Uk => "Читати українською",
            Lang::Ru => "Читать по-русски",
            Lang::Fa => "به فارسی بخوانید",
            Lang::Pl => "Czytaj po polsku",
        }
    }

    pub fn right_to_left(self) -> bool {
        matches!(self, Lang::Ar | Lang::Fa)
    }

    /// The first of the browser's preferred languages (`navigator.languages`, such as
    /// `ar-SY` or `uk`) that the app speaks.
    pub fn preferred(browser_languages: &[String]) -> Option<Lang> {
        browser_languages.iter().find_map(|tag| {
            let primary = tag.split(['-', '_']).next().unwrap_or_default();
            // Dari is Farsi as spoken in Afghanistan (`prs`); its speakers read Farsi.
            let primary = if primary.eq_ignore_ascii_case("prs") {
                "fa"
            } else {
                primary
            };
            Lang::from_code(&primary.to_ascii_lowercase())
        })
    }
}

/// One string of the UI; the language files name their entries by these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum Key {
    AppName,
    Language,
    StartHeading,
    StartIntro,
    RoomNameLabel,
    RoomNameHint,
    RoomNameInvalid,
    Continue,
    PrejoinHeading,
    NameLabel,
    NameInvalid,
    PreviewStart,
    PreviewOff,
    PreviewLoading,
    MediaDenied,
    MediaNotFound,
    MediaBusy,
    MediaUnavailable,
    Join,
    Joining,
    Leave,
    You,
    Alone,
    LeftHeading,
    Rejoin,
    BackToStart,
    ConnectionLost,
    MediaFailed,
    NewVersion,
    RoomRefused,
    VideoOf,
    PeopleInRoom,
    PrivacyLink,
    PrivacyHeading,
    PrivacyLoading,
    PrivacyUnavailable,
    ConsentSummary,
    ConsentLabel,
    ConsentRequired,
    ReadNotice,
    MyDataLink,
    MyDataHeading,
    MyDataLoading,
    MyDataEmpty,
    MyDataDelete,
    MyDataConfirm,
    MyDataConfirmYes,
    Cancel,
    MyDataDeleted,
    MyDataLeft,
    StorageEntries,
    StorageCookies,
    StorageDatabases,
    StorageCaches,
    StorageWorkers,
    MediaEncrypted,
    MediaPathUdp,
    MediaPathTcp,
    MediaPathTurn,
    CheckBlockedTurn,
    MediaConnecting,
    MediaReconnecting,
    RememberName,
    KioskResetSoon,
    KioskResetNow,
    RoomFull,
    MicOn,
    MicOff,
    MuteAction,
    UnmuteAction,
    CameraOn,
    CameraOff,
    CameraOffAction,
    CameraOnAction,
    ShareScreen,
    StopSharing,
    YouAreSharing,
    ScreenOf,
    ScreenShareFailed,
    RaiseHand,
    LowerHand,
    HandRaised,
    RaisedHands,
    Chat,
    ChatHeading,
    ChatTo,
    Everyone,
    ChatMessageLabel,
    Send,
    ChatDownload,
    Private,
    UnreadMessages,
    ChatEmpty,
    ChatSinceJoining,
    ChatTooLong,
    ChatEmptyError,
    ChatRateLimited,
    ChatUnknownReceiver,
    People,
    SpeakingTime,
    SpeakingTimeHeading,
    ShareOfTime,
    TimeColumn,
    NameColumn,
    HasLeft,
    SpeakingNow,
    LayoutTiles,
    LayoutSpeaker,
    Pin,
    Unpin,
    Fullscreen,
    Settings,
    CameraDevice,
    MicrophoneDevice,
    SpeakerDevice,
    DefaultDevice,
    SpeakerNotSupported,
    VideoQuality,
    QualityLow,
    QualityStandard,
    QualityHigh,
    ReceiveQualityLabel,
    VideoPausedWeakLink,
    ReceiveAuto,
    ReceiveLow,
    AudioOnly,
    DeviceSwitchFailed,
    JoinWithMic,
    JoinWithCamera,
    EndRemoved,
    EndDenied,
    EndMeetingEnded,
    EndRoomLocked,
    EndInvalidLink,
    EndUnknownRoom,
    AppointmentLater,
    AppointmentLaterDay,
    DeskTitle,
    DeskLogin,
    DeskPassword,
    DeskSignIn,
    DeskSignOut,
    DeskWrongPassword,
    DeskTooManyAttempts,
    DeskUnavailable,
    DeskRooms,
    DeskNoRooms,
    DeskNobodyWaiting,
    DeskWaiting,
    DeskHostPresent,
    DeskOpenRoom,
    DeskNewMeeting,
    DeskRoom,
    DeskDate,
    DeskTime,
    DeskMinutes,
    DeskFamilyLanguage,
    DeskMakeLinks,
    DeskHostLink,
    DeskInviteLink,
    DeskInterpreterLink,
    DeskQrLabel,
    DeskPrint,
    DeskValidFrom,
    DeskPrintSteps,
    DeskCouldNotMake,
    DeskNewRoom,
    DeskRoomName,
    DeskRoomTaken,
    ConnectionWeak,
    ConnectionBad,
    ConnectionWeakHelp,
    ConnectionBadHelp,
    DeskTopic,
    DeskTextsHint,
    DeskMeetingPassword,
    DeskPasswordHint,
    DeskPrintPassword,
    WaitingHeading,
    WaitingForAdmission,
    WaitingForHost,
    MessageFromHost,
    PasswordHeading,
    PasswordLabel,
    PasswordWrong,
    PasswordTooMany,
    PasswordBusy,
    Enter,
    HostBadge,
    KnockingHeading,
    Admit,
    Deny,
    ModMute,
    ModStopCamera,
    ModStopScreen,
    ModLowerHand,
    ModToWaiting,
    ModRemove,
    ModMakeHost,
    RoomPanel,
    TopicLabel,
    DescriptionLabel,
    Save,
    WaitingRoomToggle,
    LockToggle,
    NewPasswordLabel,
    SetPassword,
    RemovePassword,
    PasswordIsSet,
    NoPasswordSet,
    WaitingMessageLabel,
    EndMeeting,
    EndMeetingConfirm,
    MutedByHost,
    CameraStoppedByHost,
    ScreenStoppedByHost,
    BlurLabel,
    BlurLoading,
    BlurOn,
    FramesPerSecond,
    BlurSlow,
    BlurFailed,
    BlurHoldsCamera,
    HandLoweredByHost,
    NotHostError,
    Reconnecting,
    EmailLabel,
    EmailHint,
    EmailInvalid,
    Close,
    MediaUnreachable,
    MediaUnreachableHost,
    CheckHeading,
    CheckRunning,
    CheckUdp,
    CheckTcp,
    CheckBlocked,
    CheckNoServer,
    CheckBusy,
    CheckAgain,
    BrowserCannotCall,
    BrowserCannotCallHelp,
    DeviceCheckHeading,
    DeviceCheckHelp,
    RoomLink,
    CopyLink,
    LinkCopied,
    CopyByHand,
    EnableSound,
    CameraLost,
    SwitchCamera,
    MicLevel,
    MicLevelHint,
    SpeakerTest,
    SpeakerTestPlaying,
    MoreControls,
    MicrophoneLost,
    Joined,
    LeftRoom,
    HandRaisedBy,
    KnockAnnounce,
    MessageFrom,
    PinNamed,
    UnpinNamed,
    FullscreenNamed,
    NoticeInGerman,
    LanguageFailed,
    ShortcutsToggle,
    InterpreterBadge,
    ModMarkInterpreter,
    ModUnmarkInterpreter,
}

thread_local! {
    /// Strings of the languages loaded so far; each is loaded once and kept for the page's
    /// life, so handing out `&'static str` is sound.
    static LOADED: RefCell<HashMap<Lang, HashMap<Key, &'static str>>> = RefCell::new(HashMap::new());
}

/// The string for `key` in `lang`; German where `lang` is not loaded (yet).
pub fn t(lang: Lang, key: Key) -> &'static str {
    if lang == Lang::De {
        return german(key);
    }
    LOADED
        .with(|loaded| {
            loaded
                .borrow()
                .get(&lang)
                .and_then(|table| table.get(&key).copied())
        })
        .unwrap_or_else(|| german(key))
}

/// [`t`] with its `{name}`-style placeholders filled in.
pub fn tf(lang: Lang, key: Key, values: &[(&str, &str)]) -> String {
    let mut text = t(lang, key).to_string();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// The text before and after a placeholder, for markup around the value (a name in bold).
pub fn around(lang: Lang, key: Key, placeholder: &str) -> (&'static str, &'static str) {
    let text = t(lang, key);
    text.split_once(&format!("{{{placeholder}}}"))
        .unwrap_or((text, ""))
}

pub fn is_loaded(lang: Lang) -> bool {
    lang == Lang::De || LOADED.with(|loaded| loaded.borrow().contains_key(&lang))
}

/// Parse a language file; a file that is not a table of known keys is refused whole.
pub fn parse_table(json: &str) -> Result<HashMap<Key, String>, serde_json::Error> {
    serde_json::from_str(json)
}

/// Keep a parsed language for the rest of the page's life.
pub fn install(lang: Lang, table: HashMap<Key, String>) {
    if is_loaded(lang) {
        return;
    }
    let table = table
        .into_iter()
        .map(|(key, text)| (key, &*Box::leak(text.into_boxed_str())))
        .collect();
    LOADED.with(|loaded| {
        loaded.borrow_mut().insert(lang, table);
    });
}

fn german(key: Key) -> &'static str {
    use Key::*;
    match key {
        MediaUnreachable => "Für Bild und Ton kam keine Verbindung zustande: Ihr Netzwerk lässt sie nicht durch. Versuchen Sie ein anderes WLAN oder mobile Daten und treten Sie dann erneut bei.",
        MediaUnreachableHost => "{name} konnte keine Verbindung für Bild und Ton herstellen: Das Netzwerk blockiert sie. Die Person wurde gebeten, ein anderes Netz zu versuchen.",
        CheckHeading => "Verbindung prüfen",
        CheckRunning => "Die Verbindung wird geprüft …",
        CheckUdp => "Alles bereit: Bild und Ton kommen direkt durch.",
        CheckTcp => "Verbindung über den Webport – funktioniert, etwas mehr Verzögerung.",
        CheckBlocked => "Keine Verbindung möglich: Ihr Netzwerk blockiert Bild und Ton. Versuchen Sie ein anderes WLAN oder mobile Daten.",
        CheckNoServer => "Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung.",
        CheckBusy => "Die Prüfung ist gerade nicht möglich. Sie können trotzdem beitreten.",
        CheckAgain => "Erneut prüfen",
        EnableSound => "Ton einschalten",
        SwitchCamera => "Kamera wechseln",
        MicLevel => "Mikrofon",
        MicLevelHint => "Sprechen Sie: Der Balken bewegt sich mit Ihrer Stimme.",
        SpeakerTest => "Lautsprecher testen",
        SpeakerTestPlaying => "Sie hören jetzt drei kurze Töne.",
        MoreControls => "Mehr",
        CameraLost => "Die Kamera ist nicht mehr verfügbar (getrennt oder von einem anderen Programm belegt). Das Gespräch geht ohne Ihr Bild weiter.",
        MicrophoneLost => "Das Mikrofon ist nicht mehr verfügbar (getrennt oder von einem anderen Programm belegt). Das Gespräch geht weiter; die anderen hören Sie nicht.",
        BrowserCannotCall => "Dieser Browser kann keine Videogespräche führen",
        DeviceCheckHeading => "Kamera und Mikrofon prüfen",
        DeviceCheckHelp => "Ihre Kamera und Ihr Mikrofon können Sie hier trotzdem prüfen. Bild und Ton bleiben auf diesem Gerät.",
        BrowserCannotCallHelp => "Bitte öffnen Sie den Link in Safari, Chrome oder Firefox: Link kopieren, den anderen Browser öffnen und den Link oben in die Adresszeile einfügen.",
        RoomLink => "Link zu diesem Gespräch",
        CopyLink => "Link kopieren",
        LinkCopied => "Der Link ist kopiert.",
        CopyByHand => "Der Link ist markiert: Halten Sie ihn gedrückt und wählen Sie „Kopieren“.",
        AppName => "Sprechstunde",
        Language => "Sprache",
        StartHeading => "Willkommen zur Video-Beratung",
        StartIntro => "Geben Sie den Namen des Raums ein, den Sie bekommen haben.",
        RoomNameLabel => "Name des Raums",
        RoomNameHint => "Buchstaben ohne Umlaute, Ziffern, - und _",
        RoomNameInvalid => "Der Raumname darf 1 bis 64 Zeichen haben: Buchstaben ohne Umlaute, Ziffern, - oder _.",
        Continue => "Weiter",
        PrejoinHeading => "Bereit zum Beitreten?",
        NameLabel => "Ihr Name",
        NameInvalid => "Bitte geben Sie einen Namen mit 1 bis 64 Zeichen ein.",
        PreviewStart => "Kamera und Mikrofon testen",
        PreviewOff => "Die Kamera ist noch aus.",
        PreviewLoading => "Kamera wird gestartet …",
        MediaDenied => "Kamera und Mikrofon wurden nicht freigegeben. Sie können trotzdem beitreten und die anderen sehen und hören.",
        MediaNotFound => "Keine Kamera oder kein Mikrofon gefunden. Sie können trotzdem beitreten.",
        MediaBusy => "Die Kamera wird von einem anderen Programm benutzt. Schließen Sie es und versuchen Sie es erneut.",
        MediaUnavailable => "Kamera und Mikrofon sind in diesem Browser nicht verfügbar. Sie können trotzdem beitreten.",
        Join => "Beitreten",
        Joining => "Verbindung wird aufgebaut …",
        Leave => "Verlassen",
        You => "Sie",
        Alone => "Noch ist niemand sonst im Raum. Bitte warten Sie.",
        LeftHeading => "Sie haben die Sitzung verlassen.",
        Rejoin => "Erneut beitreten",
        BackToStart => "Zur Startseite",
        ConnectionLost => "Die Verbindung zum Server ist unterbrochen. Bitte treten Sie erneut bei.",
        MediaFailed => "Die Verbindung für Bild und Ton ist abgebrochen. Bitte treten Sie erneut bei.",
        NewVersion => "Es gibt eine neue Version. Bitte laden Sie die Seite neu.",
        RoomRefused => "Der Server hat die Anfrage abgelehnt. Bitte prüfen Sie Raum und Namen.",
        VideoOf => "Video von {name}",
        PeopleInRoom => "{count} Personen im Raum",
        PrivacyLink => "Datenschutz",
        PrivacyHeading => "Datenschutzhinweise",
        PrivacyLoading => "Die Datenschutzhinweise werden geladen …",
        PrivacyUnavailable => "Die Datenschutzhinweise konnten nicht geladen werden. Bitte laden Sie die Seite neu.",
        ConsentSummary => "Bild und Ton gehen nur über den Server dieser Stelle an die Personen in diesem Raum. Nichts wird aufgezeichnet. Kamera und Mikrofon werden erst nach Ihrer Zustimmung eingeschaltet.",
        ConsentLabel => "Ich habe die Datenschutzhinweise gelesen und stimme zu.",
        ConsentRequired => "Bitte stimmen Sie zuerst den Datenschutzhinweisen zu.",
        ReadNotice => "Datenschutzhinweise lesen (neues Fenster)",
        MyDataLink => "Meine Daten",
        MyDataHeading => "Was dieser Browser für Sprechstunde speichert",
        MyDataLoading => "Wird geprüft …",
        MyDataEmpty => "Dieser Browser speichert nichts für Sprechstunde.",
        MyDataDelete => "Alle meine Daten löschen",
        MyDataConfirm => "Wirklich alles löschen? Das kann nicht rückgängig gemacht werden.",
        MyDataConfirmYes => "Ja, alles löschen",
        Cancel => "Abbrechen",
        MyDataDeleted => "Alle Daten wurden gelöscht.",
        MyDataLeft => "Einige Daten konnten nicht gelöscht werden. Schließen Sie andere Fenster dieser Seite und versuchen Sie es erneut.",
        StorageEntries => "Gespeicherte Einstellungen",
        StorageCookies => "Cookies",
        StorageDatabases => "Datenbanken (IndexedDB)",
        StorageCaches => "Zwischenspeicher (Cache Storage)",
        StorageWorkers => "Service Worker",
        MediaEncrypted => "Bild und Ton: verschlüsselt zum Server (DTLS-SRTP)",
        MediaPathUdp => "Direkte Verbindung (UDP)",
        MediaPathTcp => "Verbindung über den Webport (TCP) – funktioniert, etwas mehr Verzögerung",
        MediaPathTurn => "Verbindung über einen Vermittlungsserver (TURN) – funktioniert, etwas mehr Verzögerung",
        CheckBlockedTurn => "Keine direkte Verbindung. Im Gespräch wird ein Umweg über einen Vermittlungsserver versucht – es kann trotzdem klappen.",
        MediaConnecting => "Bild und Ton: Verbindung wird aufgebaut …",
        MediaReconnecting => "Bild und Ton: Verbindung unterbrochen, wird wiederhergestellt …",
        RememberName => "Meinen Namen und meine E-Mail auf diesem Gerät merken",
        KioskResetSoon => "Gleich beginnt alles neu für die nächste Familie. Nichts von Ihnen bleibt auf diesem Gerät.",
        KioskResetNow => "Jetzt neu beginnen",
        RoomFull => "Der Raum ist voll. Bitte versuchen Sie es später erneut oder fragen Sie Ihre Beraterin oder Ihren Berater.",
        MicOn => "Mikrofon an",
        MicOff => "Mikrofon aus",
        MuteAction => "Stummschalten",
        UnmuteAction => "Mikrofon einschalten",
        CameraOn => "Kamera an",
        CameraOff => "Kamera aus",
        CameraOffAction => "Kamera ausschalten",
        CameraOnAction => "Kamera einschalten",
        ShareScreen => "Bildschirm teilen",
        StopSharing => "Teilen beenden",
        YouAreSharing => "Sie teilen gerade Ihren Bildschirm.",
        ScreenOf => "Bildschirm von {name}",
        ScreenShareFailed => "Der Bildschirm konnte nicht geteilt werden.",
        RaiseHand => "Hand heben",
        LowerHand => "Hand senken",
        HandRaised => "Hand gehoben",
        RaisedHands => "Gehobene Hände",
        Chat => "Chat",
        ChatHeading => "Chat",
        ChatTo => "An",
        Everyone => "Alle",
        ChatMessageLabel => "Nachricht",
        Send => "Senden",
        ChatDownload => "Chat herunterladen",
        Private => "privat",
        UnreadMessages => "ungelesene Nachrichten",
        ChatEmpty => "Noch keine Nachrichten.",
        ChatSinceJoining => "Sie sehen die Nachrichten ab Ihrem Eintritt.",
        ChatTooLong => "Die Nachricht ist zu lang (höchstens 10 000 Zeichen).",
        ChatEmptyError => "Die Nachricht ist leer.",
        ChatRateLimited => "Zu viele Nachrichten auf einmal. Bitte warten Sie einen Moment.",
        ChatUnknownReceiver => "Diese Person ist nicht mehr im Raum.",
        People => "Teilnehmende",
        SpeakingTime => "Redezeit",
        SpeakingTimeHeading => "Redezeit aller Teilnehmenden",
        ShareOfTime => "Anteil",
        TimeColumn => "Zeit",
        NameColumn => "Name",
        HasLeft => "gegangen",
        SpeakingNow => "spricht gerade",
        LayoutTiles => "Kachelansicht",
        LayoutSpeaker => "Sprecheransicht",
        Pin => "Anheften",
        Unpin => "Lösen",
        Fullscreen => "Vollbild",
        Settings => "Einstellungen",
        CameraDevice => "Kamera",
        MicrophoneDevice => "Mikrofon",
        SpeakerDevice => "Lautsprecher",
        DefaultDevice => "Standard",
        SpeakerNotSupported => "Dieser Browser kann den Lautsprecher nicht wählen.",
        VideoQuality => "Videoqualität (was Sie senden)",
        QualityLow => "Niedrig (180p)",
        QualityStandard => "Standard (360p)",
        QualityHigh => "Hoch (720p)",
        VideoPausedWeakLink => "Video pausiert – Ihre Verbindung ist zu schwach. Der Ton läuft weiter.",
        ReceiveQualityLabel => "Video der anderen (was Sie empfangen)",
        ReceiveAuto => "Automatisch (so gut die Verbindung erlaubt)",
        ReceiveLow => "Niedrig (spart Daten)",
        AudioOnly => "Nur Ton (kein Video)",
        DeviceSwitchFailed => "Das Gerät konnte nicht gewechselt werden.",
        JoinWithMic => "Mit Mikrofon beitreten",
        JoinWithCamera => "Mit Kamera beitreten",
        EndRemoved => "Die Leitung hat Sie aus dieser Beratung entfernt.",
        EndDenied => "Die Leitung hat Sie nicht hereingelassen. Bitte wenden Sie sich an die Beratungsstelle.",
        EndMeetingEnded => "Die Leitung hat die Beratung beendet.",
        EndRoomLocked => "Der Raum ist abgeschlossen. Niemand Neues kann hereinkommen.",
        EndInvalidLink => "Dieser Link ist ungültig oder abgelaufen. Bitten Sie um einen neuen.",
        EndUnknownRoom => "Diesen Raum gibt es nicht. Bitte prüfen Sie den Link.",
        AppointmentLater => "Ihr Termin beginnt um {time} – bitte kommen Sie kurz vorher wieder.",
        AppointmentLaterDay => "Ihr Termin beginnt am {date} um {time} – bitte kommen Sie kurz vorher wieder.",
        DeskTitle => "Beratungsplatz",
        DeskLogin => "Anmeldename",
        DeskPassword => "Passwort",
        DeskSignIn => "Anmelden",
        DeskSignOut => "Abmelden",
        DeskWrongPassword => "Anmeldename oder Passwort ist falsch.",
        DeskTooManyAttempts => "Zu viele Versuche. Bitte warten Sie einige Minuten.",
        DeskUnavailable => "Der Beratungsplatz ist gerade nicht erreichbar. Bitte versuchen Sie es erneut.",
        DeskRooms => "Ihre Räume",
        DeskNoRooms => "Ihnen ist noch kein Raum zugeordnet. Bitte wenden Sie sich an die Verwaltung.",
        DeskNobodyWaiting => "Niemand wartet.",
        DeskWaiting => "Es warten: {names}",
        DeskHostPresent => "Sie sind im Raum.",
        DeskOpenRoom => "Raum {room} öffnen",
        DeskNewMeeting => "Termin anlegen",
        DeskRoom => "Raum",
        DeskDate => "Datum",
        DeskTime => "Uhrzeit",
        DeskMinutes => "Dauer in Minuten",
        DeskFamilyLanguage => "Sprache der Familie",
        DeskMakeLinks => "Links erstellen",
        DeskHostLink => "Ihr Link (Gesprächsleitung)",
        DeskInviteLink => "Einladung für die Familie",
        DeskInterpreterLink => "Link für Dolmetschende",
        DeskQrLabel => "QR-Code der Einladung",
        DeskPrint => "Drucken",
        DeskValidFrom => "Die Einladung gilt von {from} bis {until}.",
        DeskPrintSteps => "Öffnen Sie kurz vor Ihrem Termin den Link oder scannen Sie den Code mit der Kamera Ihres Telefons.",
        DeskCouldNotMake => "Die Links konnten nicht erstellt werden. Bitte prüfen Sie Datum und Uhrzeit.",
        DeskNewRoom => "Neuen Raum anlegen",
        DeskRoomName => "Name des Raums (Buchstaben, Ziffern, - und _)",
        DeskRoomTaken => "Diesen Raum gibt es schon, oder der Name ist nicht erlaubt.",
        ConnectionWeak => "Verbindung schwach",
        ConnectionBad => "Verbindung schlecht",
        ConnectionWeakHelp => "Die Verbindung ist schwach: Bild und Ton können stocken.",
        ConnectionBadHelp => "Die Verbindung ist sehr schlecht: Bild und Ton kommen kaum an. WLAN statt mobiler Daten oder ein anderer Platz kann helfen.",
        DeskTopic => "Thema (optional)",
        DeskTextsHint => "Thema und Beschreibung sehen alle im Termin, auch im Warteraum. Bitte schreiben Sie keine Namen hinein.",
        DeskMeetingPassword => "Passwort für den Termin (optional)",
        DeskPasswordHint => "Sagen Sie der Familie das Passwort getrennt vom Link, zum Beispiel am Telefon. Es steht nur in Ihrem Link und wird nirgends gespeichert.",
        DeskPrintPassword => "Zum Eintreten brauchen Sie außerdem ein Passwort. Sie bekommen es von Ihrer Beratung.",
        WaitingHeading => "Sie sind im Warteraum",
        WaitingForAdmission => "Die Beratung weiß, dass Sie da sind, und lässt Sie gleich herein. Bitte bleiben Sie auf dieser Seite.",
        WaitingForHost => "Die Beratung hat noch nicht begonnen. Sobald die Beraterin oder der Berater da ist, geht es los. Bitte bleiben Sie auf dieser Seite.",
        MessageFromHost => "Nachricht der Beratung",
        PasswordHeading => "Diese Beratung ist mit einem Passwort geschützt",
        PasswordLabel => "Passwort",
        PasswordWrong => "Das Passwort stimmt nicht. Bitte versuchen Sie es noch einmal.",
        PasswordTooMany => "Zu viele falsche Versuche. Bitte warten Sie einige Minuten.",
        PasswordBusy => "Der Server ist gerade beschäftigt. Bitte versuchen Sie es gleich noch einmal.",
        Enter => "Eintreten",
        HostBadge => "Leitung",
        KnockingHeading => "Im Warteraum",
        Admit => "Hereinlassen",
        Deny => "Ablehnen",
        ModMute => "Stummschalten",
        ModStopCamera => "Kamera ausschalten",
        ModStopScreen => "Bildschirmfreigabe beenden",
        ModLowerHand => "Hand senken",
        ModToWaiting => "In den Warteraum",
        ModRemove => "Entfernen",
        ModMakeHost => "Leitung übergeben",
        RoomPanel => "Raum",
        TopicLabel => "Thema",
        DescriptionLabel => "Beschreibung (optional)",
        Save => "Speichern",
        WaitingRoomToggle => "Warteraum: Gäste klopfen an und warten",
        LockToggle => "Raum abschließen: niemand Neues kommt herein",
        NewPasswordLabel => "Passwort für diese Beratung",
        SetPassword => "Passwort setzen",
        RemovePassword => "Passwort entfernen",
        PasswordIsSet => "Ein Passwort ist gesetzt.",
        NoPasswordSet => "Kein Passwort gesetzt.",
        WaitingMessageLabel => "Nachricht an Wartende",
        EndMeeting => "Beratung für alle beenden",
        EndMeetingConfirm => "Wirklich für alle beenden?",
        MutedByHost => "Die Leitung hat Ihr Mikrofon ausgeschaltet. Sie können es selbst wieder einschalten.",
        CameraStoppedByHost => "Die Leitung hat Ihre Kamera ausgeschaltet. Sie können sie selbst wieder einschalten.",
        ScreenStoppedByHost => "Die Leitung hat Ihre Bildschirmfreigabe beendet. Sie können sie selbst wieder starten.",
        BlurLabel => "Hintergrund unscharf",
        BlurLoading => "Unschärfe wird geladen …",
        BlurOn => "Hintergrund unscharf",
        FramesPerSecond => "Bilder pro Sekunde",
        BlurSlow => "Dieses Gerät ist langsam: Die Unschärfe folgt Bewegungen etwas verzögert.",
        BlurFailed => "Die Unschärfe ließ sich auf diesem Gerät nicht starten.",
        BlurHoldsCamera => "Ihr Bild wird erst gesendet, wenn die Unschärfe läuft. Schalten Sie die Unschärfe aus, um ohne sie gesehen zu werden.",
        HandLoweredByHost => "Die Leitung hat Ihre Hand gesenkt.",
        NotHostError => "Das darf nur die Leitung.",
        Reconnecting => "Verbindung wird wiederhergestellt…",
        EmailLabel => "E-Mail (freiwillig)",
        EmailHint => "Nur die Beraterin oder der Berater sieht sie, zum Beispiel um Ihnen Unterlagen zu schicken. Sie wird nirgends gespeichert.",
        EmailInvalid => "Das sieht nicht wie eine E-Mail-Adresse aus. Lassen Sie das Feld leer, wenn Sie keine angeben möchten.",
        Close => "Schließen",
    Joined => "{name} ist beigetreten",
    LeftRoom => "{name} hat das Gespräch verlassen",
    HandRaisedBy => "{name} hat die Hand gehoben",
    KnockAnnounce => "{name} wartet im Warteraum",
    MessageFrom => "Nachricht von {name}: {text}",
    PinNamed => "{name} anheften",
    UnpinNamed => "{name} lösen",
    FullscreenNamed => "{name} im Vollbild zeigen",
    NoticeInGerman => "Die Datenschutzhinweise gibt es nicht in Ihrer Sprache. Verbindlich ist der deutsche Text unten.",
    LanguageFailed => "Die Sprache konnte nicht geladen werden. Bitte versuchen Sie es erneut.",
    ShortcutsToggle => "Tastenkürzel: M Mikrofon, V Kamera, H Hand, C Chat",
    InterpreterBadge => "Dolmetschen",
    ModMarkInterpreter => "Als Dolmetscher/in markieren",
    ModUnmarkInterpreter => "Markierung „Dolmetschen“ entfernen",

    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use strum::IntoEnumIterator;

    use super::*;

    fn file(lang: Lang) -> String {
        let path = format!("{}/lang/{}.json", env!("CARGO_MANIFEST_DIR"), lang.code());
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Placeholders such as `{name}` in a string.
    fn placeholders(text: &str) -> HashSet<String> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
            .collect()
    }

    #[test]
    fn language_codes_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
        }
        assert_eq!(Lang::from_code("xx"), None);
    }

    #[test]
    fn german_is_the_default() {
        assert_eq!(Lang::default(), Lang::De);
        assert_eq!(t(Lang::default(), Key::Join), "Beitreten");
    }

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::De) {
            let table = parse_table(&file(lang)).unwrap_or_else(|e| panic!("{}: {e}", lang.code()));
            for key in Key::iter() {
                let text = table
                    .get(&key)
                    .unwrap_or_else(|| panic!("{}: {key:?} is missing", lang.code()));
                assert!(!text.trim().is_empty(), "{}: {key:?} is empty", lang.code());
                assert_eq!(
                    placeholders(text),
                    placeholders(german(key)),
                    "{}: {key:?} has other placeholders than German",
                    lang.code()
                );
            }
            assert_eq!(table.len(), Key::iter().count(), "{}", lang.code());
        }
    }

    /// Words that are the same in German and another language by nature: the product's
    /// name, technical terms, device words shared across languages.
    fn same_as_german_allowed(lang: Lang, key: Key) -> bool {
        key == Key::AppName
            || (lang == Lang::En
                && matches!(
                    key,
                    Key::StorageCookies
                        | Key::Chat
                        | Key::ChatHeading
                        | Key::NameColumn
                        | Key::QualityStandard
                ))
            || (matches!(lang, Lang::Tr | Lang::Pl)
                && matches!(
                    key,
                    Key::CameraDevice | Key::MicrophoneDevice | Key::MicLevel
                ))
    }

    #[test]
    fn no_string_is_left_in_german() {
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::De) {
            let table = parse_table(&file(lang)).unwrap_or_default();
            for key in Key::iter() {
                if same_as_german_allowed(lang, key) {
                    continue;
                }
                assert_ne!(
                    table.get(&key).map(String::as_str),
                    Some(german(key)),
                    "{}: {key:?} is still German",
                    lang.code()
                );
            }
        }
    }

    fn words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    }

    /// WCAG 2.5.3 (label in name): a button whose accessible name says whose it is still
    /// contains its visible words, in order, so voice control finds it by what it shows.
    #[test]
    fn named_labels_contain_the_visible_text() {
        let pairs = [
            (Key::Pin, Key::PinNamed),
            (Key::Unpin, Key::UnpinNamed),
            (Key::Fullscreen, Key::FullscreenNamed),
        ];
        for lang in Lang::ALL {
            let table = if lang == Lang::De {
                HashMap::new()
            } else {
                parse_table(&file(lang)).unwrap_or_default()
            };
            let text = |key: Key| {
                table
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| german(key).to_string())
            };
            for (visible, named) in pairs {
                let (visible, named) = (words(&text(visible)), words(&text(named)));
                assert!(
                    named
                        .windows(visible.len())
                        .any(|w| w == visible.as_slice()),
                    "{}: {named:?} does not contain {visible:?}",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn installed_languages_are_used_and_the_rest_falls_back_to_german() {
        assert_eq!(t(Lang::Tr, Key::Join), "Beitreten");
        assert!(!is_loaded(Lang::Tr));
        install(Lang::Tr, parse_table(&file(Lang::Tr)).unwrap_or_default());
        assert!(is_loaded(Lang::Tr));
        assert_eq!(t(Lang::Tr, Key::Join), "Katıl");
        assert_eq!(tf(Lang::Tr, Key::Joined, &[("name", "Ben")]), "Ben katıldı");
    }

    #[test]
    fn a_file_with_an_unknown_key_is_refused() {
        assert!(parse_table(r#"{"Join": "x", "NoSuchKey": "y"}"#).is_err());
        assert!(parse_table("not json").is_err());
    }

    #[test]
    fn the_browser_suggests_a_language_we_speak() {
        let tags = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Lang::preferred(&tags(&["ar-SY", "de"])), Some(Lang::Ar));
        assert_eq!(Lang::preferred(&tags(&["es", "uk-UA"])), Some(Lang::Uk));
        assert_eq!(Lang::preferred(&tags(&["prs-AF"])), Some(Lang::Fa));
        assert_eq!(Lang::preferred(&tags(&["es", "it"])), None);
        assert!(Lang::Ar.right_to_left() && Lang::Fa.right_to_left() && !Lang::De.right_to_left());
    }
}
