package tickets

import (
	"context"
	"testing"
)

func TestLanguageIsDetectedFromSubjectAndDescription(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		subject, description string
		lang                 string
		english              bool
	}{
		{"Invoice export does not work", "When I click the button, nothing happens and the page shows an error.", "en", false},
		{"Connexion impossible", "Je ne peux pas me connecter depuis la mise à jour. Le bouton ne fait rien et la page affiche une erreur.", "fr", false},
		{"Anmeldung geht nicht", "Ich kann mich seit dem Update nicht mehr anmelden. Wenn ich auf den Knopf drücke, passiert nichts und die Seite zeigt einen Fehler.", "de", false},
		{"Nefunguje přihlášení", "Od aktualizace se nemohu přihlásit. Když kliknu na tlačítko, nic se nestane a stránka ukáže chybu.", "cs", false},
		{"No puedo iniciar sesión", "No puedo iniciar sesión desde la actualización. Cuando pulso el botón no pasa nada y la página muestra un error.", "es", true},
		{"Kan inte logga in", "Jag kan inte logga in efter uppdateringen. När jag klickar på knappen händer ingenting och sidan visar ett fel.", "sv", true},
	}
	for _, tt := range tests {
		nt := validTicket()
		nt.Subject, nt.Description = tt.subject, tt.description
		tk, _, err := e.File(context.Background(), nt)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Lang != tt.lang || tk.AnswerInEnglish != tt.english {
			t.Errorf("%q: lang %s, answer in English %v; want %s, %v", tt.subject, tk.Lang, tk.AnswerInEnglish, tt.lang, tt.english)
		}
	}
}

func TestGivenLanguageWins(t *testing.T) {
	e := newEnv(t, nil)
	for given, want := range map[string]struct {
		lang    string
		english bool
	}{"CS": {"cs", false}, "de-AT": {"de-AT", false}, "it": {"it", true}} {
		nt := validTicket() // written in English
		nt.Lang = given
		tk, _, err := e.File(context.Background(), nt)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Lang != want.lang || tk.AnswerInEnglish != want.english {
			t.Errorf("Lang %q: got %s, %v; want %s, %v", given, tk.Lang, tk.AnswerInEnglish, want.lang, want.english)
		}
	}
}

func TestDetectLangEdgeCases(t *testing.T) {
	idx := newStopIndex()
	for text, want := range map[string]string{
		"":          "en", // nothing to go on: English
		"Error 500": "en",
		"de la":     "en", // shared words only: not clear
		"ログインできません。エラーが表示されます。":                                                           "ja",
		"Не могу войти в систему после обновления":                                        "ru",
		"Il pulsante non funziona e la pagina mostra un errore quando provo a esportare.": "it",
		"Nie mogę się zalogować, ale hasło jest poprawne i konto działa.":                 "pl",
	} {
		if got := idx.detectLang(text); got != want {
			t.Errorf("detectLang(%q) = %s, want %s", text, got, want)
		}
	}
}
