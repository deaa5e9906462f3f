/*
 * scoring_calls.h — crafted practice-call transcripts shared by the scorer's
 * unit test and its benchmark: a strong call (40 turns), an average one and
 * a poor one, with the turn indexes the tests check spelled out.
 */
#ifndef ATHOS_SCORING_CALLS_H
#define ATHOS_SCORING_CALLS_H

#include <stdint.h>

struct call_line {
  const char *role;
  const char *text;
  int64_t at_ms;
};

#define PERSONA(t, ms) \
  {                    \
    "assistant", t, ms \
  }
#define REP(t, ms) \
  {                \
    "user", t, ms  \
  }

/* 2025-11-05 and 2026-11-02, 00:00 UTC: one call under each TPMO rule. */
#define DATE_CY2024 1762300800000LL
#define DATE_CY2027 1793577600000LL

/* A strong call: every required statement on time, full discovery, a
 * presentation tied to the answers, two objections answered, an enrollment. */
static const struct call_line STRONG_CALL[] = {
    /* 0 */ PERSONA("Hello?", 0),
    /* 1 */
    REP("Hi, is this Dorothy? My name is Sam Carter with Bright Path Insurance. I'm a "
        "licensed insurance agent on a recorded line, and I'm not connected with Medicare "
        "or any government agency. Is now a good time to talk?",
        2000),
    /* 2 */
    PERSONA("Yes, this is Dorothy. I have a few minutes before I pick up my grandson, so "
            "we can talk for a bit.",
            14000),
    /* 3 */
    REP("Great, thank you Dorothy. Before we start I have to read a short disclaimer. We "
        "do not offer every plan available in your area. Currently we represent 8 "
        "organizations which offer 42 products in your area. Please contact Medicare.gov, "
        "1-800-MEDICARE, or your local State Health Insurance Program (SHIP) to get "
        "information on all of your options.",
        19000),
    /* 4 */
    PERSONA("Okay, I understand. I've heard that before on the television commercials.", 40000),
    /* 5 */
    REP("Today I'd like to talk about Medicare Advantage plans, Medicare Advantage plans "
        "with drug coverage, and Part D prescription drug plans. This call does not "
        "obligate you to enroll and won't affect your current coverage. Is that okay with "
        "you? And is there anyone else who helps you with these decisions, like a family "
        "member?",
        44000),
    /* 6 */
    PERSONA("Yes, that's fine. No, it's just me. My husband passed two years ago, so I "
            "handle all of this on my own now.",
            62000),
    /* 7 */
    REP("I'm sorry to hear that. Do you have both Part A and Part B? And do you get "
        "Medicaid or Extra Help with your costs?",
        70000),
    /* 8 */
    PERSONA("I have both A and B, I've had them since I turned sixty-five. No Medicaid, "
            "and I don't think I get any extra help.",
            78000),
    /* 9 */
    REP("What coverage do you have now, and what do you like about it? What don't you "
        "like?",
        86000),
    /* 10 */
    PERSONA("I'm on original Medicare with a supplement plan G, and the premium keeps "
            "going up every single year. I like that I can see any doctor I want without "
            "asking anybody for permission, but the price is getting hard on my budget.",
            92000),
    /* 11 */
    REP("That makes sense. Do you have any other coverage, like from an employer, the VA "
        "or TRICARE?",
        106000),
    /* 12 */
    PERSONA("No, nothing else. I retired from the school district but they didn't give "
            "us anything for retirement health.",
            112000),
    /* 13 */
    REP("Tell me about your doctors. Which doctors and specialists do you see "
        "regularly?",
        120000),
    /* 14 */
    PERSONA("Dr. Patel is my primary care doctor, I've been with her for twelve years. I "
            "also see Dr. Nguyen, a cardiologist, twice a year for my heart, and I "
            "wouldn't want to lose either of them.",
            125000),
    /* 15 */
    REP("And what prescriptions do you take, with the dose for each? Which pharmacy do "
        "you use?",
        138000),
    /* 16 */
    PERSONA("Lisinopril 10 mg every morning and atorvastatin 20 mg at night. I use the "
            "Walgreens on Main Street because it's close to my house and the pharmacist "
            "knows me.",
            144000),
    /* 17 */
    REP("How much are you paying now, and what monthly budget are you comfortable with? "
        "Do you travel or spend part of the year out of state? Any upcoming procedures, "
        "or dental, vision or hearing needs?",
        156000),
    /* 18 */
    PERSONA("I pay about 180 a month for the supplement and another 30 for the drug "
            "plan. I'd like to pay less than that. I don't travel much anymore, maybe to "
            "my sister's in the summer. I could really use dental, my teeth need work and "
            "I've been putting it off because of the cost.",
            170000),
    /* 19 */
    REP("Let me make sure I have everything: Dr. Patel and Dr. Nguyen, lisinopril and "
        "atorvastatin at Walgreens, a budget under 210 a month, and dental. Did I get it "
        "all?",
        190000),
    /* 20 */
    PERSONA("Yes, that's everything. But will my doctor still be covered if I switch? "
            "That's the most important thing to me.",
            204000),
    /* 21 */
    REP("That's a fair question, Dorothy. I checked while we talked: Dr. Patel and Dr. "
        "Nguyen are both in network with the Sunrise PPO plan, so you could keep seeing "
        "them.",
        212000),
    /* 22 */
    PERSONA("Oh, that's a relief. What would it cost me every month? I'm on a fixed "
            "income, so that matters.",
            226000),
    /* 23 */
    REP("I hear you. Since you mentioned your budget, the Sunrise PPO has a $0 monthly premium. "
        "Primary care copays are $5 and specialist copays are $35. The maximum "
        "out-of-pocket is $4,900 a year. Both of your medications are on the formulary "
        "at tier 1 at Walgreens, your preferred pharmacy.",
        232000),
    /* 24 */
    PERSONA("That sounds a lot better than what I pay now. And what about the dental? "
            "That's the part I really need.",
            256000),
    /* 25 */
    REP("It includes $2,000 a year in dental coverage, plus vision and hearing aids. "
        "Because you said your teeth need work, that dental allowance fits your needs. "
        "The plan has a four star rating and I'll send you the Summary of Benefits.",
        262000),
    /* 26 */
    PERSONA("What happens to my supplement if I do this? I don't want to end up paying "
            "for two things.",
            282000),
    /* 27 */
    REP("Good question. Enrolling in this plan would replace your current coverage: "
        "you'd cancel your Medigap supplement once the new plan starts, and I'll help "
        "you with that. You can also change your mind and cancel before the effective "
        "date.",
        288000),
    /* 28 */
    PERSONA("Okay, that sounds good. It's a lot to take in, but it makes sense the way "
            "you explain it.",
            306000),
    /* 29 */ REP("What other questions do you have for me, Dorothy?", 313000),
    /* 30 */
    PERSONA("I think that's all. You've covered the things I was worried about, the "
            "doctors and the cost.",
            317000),
    /* 31 */ REP("Would you like to enroll in the Sunrise PPO today?", 324000),
    /* 32 */
    PERSONA("Yes, let's do it. I've been meaning to sort this out for a long time.", 328000),
    /* 33 */
    REP("Wonderful. Your effective date is January 1st. You'll receive a confirmation "
        "number today, and your ID card and welcome kit in the mail.",
        334000),
    /* 34 */
    PERSONA("Will you call me when the card comes, in case I have questions about it?", 346000),
    /* 35 */
    REP("Of course. I'll call you in two weeks to follow up. What's the best number to "
        "reach you?",
        351000),
    /* 36 */
    PERSONA("This number is fine, it's my home phone. I'm usually here in the "
            "afternoons.",
            358000),
    /* 37 */
    REP("Perfect, afternoons it is. Thank you for your time, Dorothy. Have a great day.", 364000),
    /* 38 */ PERSONA("Thank you so much, Sam. You were very patient with me.", 370000),
    /* 39 */ REP("It was my pleasure. Goodbye!", 375000),
};

/* An average call: compliant, but thin discovery, a generic pitch, an
 * objection acknowledged and never answered, no enrollment ask. */
static const struct call_line AVERAGE_CALL[] = {
    /* 0 */ PERSONA("Hello, who is this?", 0),
    /* 1 */
    REP("Hi, this is Jordan with Senior Benefit Partners, a licensed insurance agent on a "
        "recorded line. Am I speaking with Harold?",
        2000),
    /* 2 */ PERSONA("Yes, this is Harold. What's this about?", 12000),
    /* 3 */
    REP("I'm calling about your Medicare options. We do not offer every plan available in "
        "your area. Currently we represent 5 organizations which offer 30 products in "
        "your area. Please contact Medicare.gov, 1-800-MEDICARE, or your local SHIP to "
        "get information on all of your options.",
        16000),
    /* 4 */ PERSONA("Alright.", 38000),
    /* 5 */
    REP("Today we can go over Medicare Advantage plans and Part D drug plans, and there's "
        "no obligation to enroll. Is that okay?",
        40000),
    /* 6 */ PERSONA("Sure, I guess.", 50000),
    /* 7 */ REP("What plan do you have right now?", 53000),
    /* 8 */
    PERSONA("I have a plan through Humana, an HMO I think. It's fine, I suppose, but the "
            "copays add up.",
            57000),
    /* 9 */ REP("Okay. Do you have any doctors you see?", 66000),
    /* 10 */ PERSONA("Dr. Alvarez, my family doctor, and a podiatrist every few months.", 70000),
    /* 11 */ REP("Got it. Any prescriptions?", 78000),
    /* 12 */ PERSONA("Metformin and a blood pressure pill, I forget the name.", 81000),
    /* 13 */
    REP("Okay so there is a plan here with a $0 premium and lower copays than what you "
        "have, and Dr. Alvarez is in network. It has dental and vision as well, and a gym "
        "membership. It's a good option and a lot of people in your area are picking it "
        "this year because the copays are low and the network is big, so I think it "
        "would work well for you.",
        89000),
    /* 14 */ PERSONA("Hmm. I'd want to talk to my daughter before I change anything.", 120000),
    /* 15 */
    REP("I understand. It's a really good plan though, with low copays and a big "
        "network, and it covers a lot.",
        127000),
    /* 16 */ PERSONA("I'll think about it.", 137000),
    /* 17 */ REP("Okay, thanks Harold. Have a good day.", 141000),
    /* 18 */ PERSONA("Bye.", 146000),
};

/* A poor call: no required statement, prohibited claims, a scam worry
 * ignored, a long pitch; the prospect hangs up. */
static const struct call_line POOR_CALL[] = {
    /* 0 */ PERSONA("Hello?", 0),
    /* 1 */
    REP("Hi, I'm calling from Medicare about your benefits. You qualify for a new plan "
        "with more dental and vision and a bigger giveback.",
        2000),
    /* 2 */ PERSONA("How do I know this isn't a scam? Who gave you my number?", 14000),
    /* 3 */
    REP("This is the best plan on the market and it's free, you'll get $100 back every "
        "month on your Social Security check, and everyone qualifies. You need to sign up "
        "today because this offer expires at the end of the week and you don't want to "
        "miss out on the extra money, and honestly the plans next year won't be as good, "
        "so most people are doing it right now over the phone with me.",
        20000),
    /* 4 */ PERSONA("I don't know. I'm happy with what I have.", 55000),
    /* 5 */
    REP("You'll save money. I just need your Medicare number and your bank account number "
        "to set up the giveback.",
        60000),
    /* 6 */ PERSONA("No. I'm hanging up now.", 72000),
};

#define N_LINES(a) (sizeof(a) / sizeof((a)[0]))

#endif
