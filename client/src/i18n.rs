//! Every string the user sees, German first, English second. Components never hold text of
//! their own; they ask [`t`] (or a formatting helper here) with the current language.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
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
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    ServerRestarting,
    NewVersion,
    RoomRefused,
    VideoOf,
    PeopleInRoom,
    NoVideo,
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
    MediaConnecting,
    MediaReconnecting,
    RememberName,
    KioskResetSoon,
    KioskResetNow,
    RoomFull,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::De => match key {
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
            ServerRestarting => "Der Server wird neu gestartet. Bitte treten Sie gleich erneut bei.",
            NewVersion => "Es gibt eine neue Version. Bitte laden Sie die Seite neu.",
            RoomRefused => "Der Server hat die Anfrage abgelehnt. Bitte prüfen Sie Raum und Namen.",
            VideoOf => "Video von",
            PeopleInRoom => "Personen im Raum",
            NoVideo => "Kein Bild",
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
            MediaConnecting => "Bild und Ton: Verbindung wird aufgebaut …",
            MediaReconnecting => "Bild und Ton: Verbindung unterbrochen, wird wiederhergestellt …",
            RememberName => "Meinen Namen auf diesem Gerät merken",
            KioskResetSoon => "Gleich beginnt alles neu für die nächste Familie. Nichts von Ihnen bleibt auf diesem Gerät.",
            KioskResetNow => "Jetzt neu beginnen",
            RoomFull => "Der Raum ist voll. Bitte versuchen Sie es später erneut oder fragen Sie Ihre Beraterin oder Ihren Berater.",
        },
        Lang::En => match key {
            AppName => "Sprechstunde",
            Language => "Language",
            StartHeading => "Welcome to video counseling",
            StartIntro => "Enter the name of the room you were given.",
            RoomNameLabel => "Room name",
            RoomNameHint => "Letters a-z, digits, - and _",
            RoomNameInvalid => "Room names have 1 to 64 characters: letters a-z, digits, - or _.",
            Continue => "Continue",
            PrejoinHeading => "Ready to join?",
            NameLabel => "Your name",
            NameInvalid => "Please enter a name of 1 to 64 characters.",
            PreviewStart => "Test camera and microphone",
            PreviewOff => "The camera is still off.",
            PreviewLoading => "Starting the camera …",
            MediaDenied => "Camera and microphone were not allowed. You can still join and see and hear the others.",
            MediaNotFound => "No camera or microphone found. You can still join.",
            MediaBusy => "The camera is used by another program. Close it and try again.",
            MediaUnavailable => "Camera and microphone are not available in this browser. You can still join.",
            Join => "Join",
            Joining => "Connecting …",
            Leave => "Leave",
            You => "You",
            Alone => "Nobody else is here yet. Please wait.",
            LeftHeading => "You have left the session.",
            Rejoin => "Join again",
            BackToStart => "Back to start",
            ConnectionLost => "The connection to the server was lost. Please join again.",
            MediaFailed => "The audio and video connection was lost. Please join again.",
            ServerRestarting => "The server is restarting. Please join again in a moment.",
            NewVersion => "There is a new version. Please reload the page.",
            RoomRefused => "The server refused the request. Please check the room and your name.",
            VideoOf => "Video of",
            PeopleInRoom => "people in the room",
            NoVideo => "No video",
            PrivacyLink => "Privacy",
            PrivacyHeading => "Privacy notice",
            PrivacyLoading => "Loading the privacy notice …",
            PrivacyUnavailable => "The privacy notice could not be loaded. Please reload the page.",
            ConsentSummary => "Picture and sound travel only through this office's server to the people in this room. Nothing is recorded. Camera and microphone are turned on only after you agree.",
            ConsentLabel => "I have read the privacy notice and agree.",
            ConsentRequired => "Please agree to the privacy notice first.",
            ReadNotice => "Read the privacy notice (new window)",
            MyDataLink => "My data",
            MyDataHeading => "What this browser stores for Sprechstunde",
            MyDataLoading => "Checking …",
            MyDataEmpty => "This browser stores nothing for Sprechstunde.",
            MyDataDelete => "Delete all my data",
            MyDataConfirm => "Really delete everything? This cannot be undone.",
            MyDataConfirmYes => "Yes, delete everything",
            Cancel => "Cancel",
            MyDataDeleted => "All data has been deleted.",
            MyDataLeft => "Some data could not be deleted. Close other windows of this site and try again.",
            StorageEntries => "Stored settings",
            StorageCookies => "Cookies",
            StorageDatabases => "Databases (IndexedDB)",
            StorageCaches => "Caches (Cache Storage)",
            StorageWorkers => "Service workers",
            MediaEncrypted => "Picture and sound: encrypted to the server (DTLS-SRTP)",
            MediaConnecting => "Picture and sound: connecting …",
            MediaReconnecting => "Picture and sound: connection interrupted, reconnecting …",
            RememberName => "Remember my name on this device",
            KioskResetSoon => "Everything starts afresh for the next family in a moment. Nothing of yours stays on this device.",
            KioskResetNow => "Start afresh now",
            RoomFull => "The room is full. Please try again later or ask your counselor.",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
