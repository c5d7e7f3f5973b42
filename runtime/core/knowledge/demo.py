"""The demo tenants' FAQs (a dental clinic, a gym, a hotel) in Romanian and English, matching
their demo catalogues, and the function that writes one into a tenant's knowledge base;
writing again updates the answers in place."""

from __future__ import annotations

import asyncpg

from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.knowledge.models import KnowledgeEntrySpec
from simptu.runtime.core.knowledge.store import save_entry
from simptu.runtime.core.language import Locale

Faq = dict[Locale, list[tuple[str, str]]]

DENTAL_CLINIC: Faq = {
    "ro": [
        ("Care este programul clinicii?",
         "Luni, miercuri și vineri între 9:00 și 20:00, marți și joi între 9:00 și 17:00, "
         "sâmbăta între 9:00 și 13:00. Duminica este închis."),
        ("Cât costă o consultație?",
         "Consultația cu plan de tratament costă 150 de lei, detartrarea cu periaj "
         "profesional 250 de lei, iar o obturație (plombă) 400 de lei."),
        ("Aveți parcare?",
         "Da, parcarea din curtea clinicii este gratuită pentru pacienți."),
        ("Cum anulez o programare?",
         "Anulați cu cel puțin 24 de ore înainte, din chat sau la telefon, fără nicio taxă. "
         "La o anulare mai târzie reținem 50 de lei."),
        ("Ce fac dacă am o urgență?",
         "Sunați-ne: pentru dureri puternice sau traumatisme vă primim în aceeași zi."),
        ("Cum pot plăti?", "Acceptăm numerar și card; nu lucrăm cu decontare CAS."),
    ],
    "en": [
        ("What are your opening hours?",
         "Monday, Wednesday and Friday 9:00-20:00, Tuesday and Thursday 9:00-17:00, "
         "Saturday 9:00-13:00; closed on Sunday."),
        ("How much does a consultation cost?",
         "A consultation with a treatment plan is 150 RON, scaling and polishing 250 RON, "
         "a filling 400 RON."),
        ("Is there parking?",
         "Yes, parking in the clinic's courtyard is free for patients."),
        ("How do I cancel an appointment?",
         "Cancel at least 24 hours ahead, in the chat or by phone, free of charge. A later "
         "cancellation costs 50 RON."),
        ("What if I have a dental emergency?",
         "Call us: for severe pain or an injury we see you the same day."),
        ("How can I pay?", "We take cash and cards."),
    ],
}

GYM: Faq = {
    "ro": [
        ("Care este programul sălii?",
         "Sala este deschisă de luni până vineri între 6:00 și 22:00, iar în weekend între "
         "8:00 și 20:00."),
        ("Cât costă un abonament?",
         "Abonamentul lunar costă 180 de lei. O oră de yoga costă 40 de lei, spinning 35 de "
         "lei, antrenamentul personal 120 de lei."),
        ("Când sunt orele de yoga și spinning?",
         "Yoga: luni, miercuri și vineri la 18:00 și sâmbăta la 10:00. Spinning: marți și joi "
         "la 7:00 și la 19:00."),
        ("Aveți parcare?", "Da, parcarea Iulius Town are trei ore gratuite pentru membri."),
        ("Cum anulez o rezervare la o clasă?",
         "Anulați cu cel puțin 2 ore înainte de oră, din chat; locul trece la următorul de pe "
         "lista de așteptare."),
        ("Ce trebuie să aduc?",
         "Un prosop, apă și încălțăminte curată de sală. Vestiarele au dușuri și dulapuri."),
    ],
    "en": [
        ("What are your opening hours?",
         "The gym is open Monday to Friday 6:00-22:00 and at weekends 8:00-20:00."),
        ("How much is a membership?",
         "A monthly membership is 180 RON. A yoga class is 40 RON, spinning 35 RON, personal "
         "training 120 RON."),
        ("When are the yoga and spinning classes?",
         "Yoga: Monday, Wednesday and Friday at 18:00 and Saturday at 10:00. Spinning: "
         "Tuesday and Thursday at 7:00 and 19:00."),
        ("Is there parking?", "Yes, the Iulius Town car park is free for members for 3 hours."),
        ("How do I cancel a class booking?",
         "Cancel at least 2 hours before the class, in the chat; your place goes to the next "
         "person on the waiting list."),
        ("What should I bring?",
         "A towel, water and clean indoor shoes. The changing rooms have showers and lockers."),
    ],
}

HOTEL: Faq = {
    "ro": [
        ("La ce oră este check-in și check-out?",
         "Check-in de la 14:00, check-out până la 11:00. Bagajele pot rămâne la recepție."),
        ("Cât costă o noapte de cazare?",
         "Camera dublă costă 450 de lei pe noapte, cu micul dejun inclus; apartamentul de "
         "familie 800 de lei pe noapte."),
        ("Aveți parcare?", "Da, parcarea hotelului costă 30 de lei pe noapte."),
        ("Care este politica de anulare?",
         "Anularea este gratuită până cu 48 de ore înainte de sosire; după aceea reținem "
         "prima noapte."),
        ("Se servește micul dejun?",
         "Da, micul dejun bufet se servește între 7:00 și 10:30 și este inclus în preț."),
        ("Acceptați animale de companie?",
         "Da, câinii și pisicile de talie mică sunt bineveniți, cu o taxă de 50 de lei pe "
         "noapte."),
    ],
    "en": [
        ("What time are check-in and check-out?",
         "Check-in from 14:00, check-out by 11:00. Luggage can stay at the reception."),
        ("How much is a night?",
         "A double room is 450 RON a night with breakfast; the family suite is 800 RON a "
         "night."),
        ("Is there parking?", "Yes, the hotel car park costs 30 RON a night."),
        ("What is your cancellation policy?",
         "Cancellation is free up to 48 hours before arrival; after that the first night is "
         "charged."),
        ("Is breakfast served?",
         "Yes, a buffet breakfast is served from 7:00 to 10:30 and is included in the price."),
        ("Do you accept pets?", "Yes, small dogs and cats are welcome for 50 RON a night."),
    ],
}

FAQS: dict[str, Faq] = {"dental-clinic": DENTAL_CLINIC, "gym": GYM, "hotel": HOTEL}


def demo_faq(business_type: str) -> list[KnowledgeEntrySpec]:
    """The demo FAQ of a business type (none for another)."""
    return [KnowledgeEntrySpec(locale=locale, question=question, answer=answer)
            for locale, pairs in FAQS.get(business_type, {}).items()
            for question, answer in pairs]


async def seed_demo_faq(conn: asyncpg.Connection, embedder: Embedder,
                        business_type: str) -> int:
    """Write the demo FAQ of `business_type` in the caller's `TenantUnitOfWork`; returns how
    many entries it has."""
    entries = demo_faq(business_type)
    for entry in entries:
        await save_entry(conn, embedder, entry)
    return len(entries)
